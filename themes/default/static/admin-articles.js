/* The article editor's small helpers (the page works without them):
 * a toolbar that inserts the paywall marker and an attributed quote into
 * the body, and autosave of a saved story every 15 seconds when changed. */
(function () {
	"use strict";
	var form = document.getElementById("editor");
	if (!form) return;
	var body = document.getElementById("f-body");
	var toolbar = form.querySelector(".admin-toolbar");
	var snippets = {
		paywall: "\n<!-- paywall -->\n\n",
		quote: "\n> The words, as they were said.\n>\n> \u2014 Name, Role\n\n"
	};
	function insert(text) {
		var start = body.selectionStart, end = body.selectionEnd, v = body.value;
		/* Blocks begin on a line of their own. */
		if (start > 0 && v.charAt(start - 1) !== "\n") text = "\n" + text;
		body.value = v.slice(0, start) + text + v.slice(end);
		body.selectionStart = body.selectionEnd = start + text.length;
		body.focus();
		body.dispatchEvent(new Event("input", { bubbles: true }));
	}
	if (toolbar && body) {
		toolbar.hidden = false;
		toolbar.addEventListener("click", function (e) {
			var b = e.target.closest("button[data-insert]");
			if (b && snippets[b.dataset.insert]) insert(snippets[b.dataset.insert]);
		});
	}
	var url = form.dataset.autosave;
	var status = form.querySelector(".admin-autosave");
	if (!url || !window.fetch) return;
	var changed = false, busy = false;
	form.addEventListener("input", function () { changed = true; });
	form.addEventListener("change", function () { changed = true; });
	form.addEventListener("submit", function () { changed = false; });
	function save() {
		if (!changed || busy) return;
		busy = true;
		changed = false;
		var data = new URLSearchParams(new FormData(form));
		data.delete("action");
		fetch(url, {
			method: "POST",
			body: data,
			credentials: "same-origin",
			headers: { "Accept": "application/json" }
		}).then(function (r) {
			return r.json().then(function (j) { return { ok: r.ok, j: j }; });
		}).then(function (res) {
			if (status) status.textContent = res.ok ? "Draft autosaved at " + res.j.saved_at : "Not autosaved: " + res.j.error;
			/* The next save is over this version. */
			var base = form.querySelector("input[name=base_updated]");
			if (res.ok && base) base.value = res.j.base_updated;
			if (!res.ok) changed = true;
		}).catch(function () {
			changed = true;
			if (status) status.textContent = "Not autosaved: the server could not be reached.";
		}).then(function () { busy = false; });
	}
	setInterval(save, 15000);
})();
