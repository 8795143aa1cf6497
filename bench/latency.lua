-- bench/latency.lua: wrk prints p50 to p99 with --latency; the one-core
-- runs of bench/baseline also want p99.9. One line, in microseconds.
done = function(summary, latency, requests)
	io.write(string.format("latency-us p50=%d p99=%d p999=%d\n", latency:percentile(50),
		latency:percentile(99), latency:percentile(99.9)))
end
