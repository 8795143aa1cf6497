// The newsroom's member import: a chosen CSV file's text goes into the
// textarea the form posts. Without this script, the text is pasted.
(function () {
	"use strict";
	var inputs = document.querySelectorAll("input[type=file][data-fills]");
	Array.prototype.forEach.call(inputs, function (input) {
		var target = document.getElementById(input.getAttribute("data-fills"));
		if (!target || !window.FileReader)
			return;
		input.addEventListener("change", function () {
			var file = input.files && input.files[0];
			if (!file)
				return;
			var reader = new FileReader();
			reader.onload = function () { target.value = String(reader.result); };
			reader.readAsText(file);
		});
	});
})();
