-- Shared by every bench/run wrk measurement: at the end of a wrk run, print one
-- machine-readable line that bench/run parses. Latencies are in microseconds; "non2xx" counts
-- responses whose status is not 2xx/3xx. When a token-rotation script ran (rotate.lua), also
-- report how many tokens were used, how many requests found none left, and tokens_next: the
-- first line of the tokens file that no thread took (every thread's slice interleaves, so this
-- is START + the most any thread used x threads), where the next phase starts. -1 without one.
done = function(summary, latency, requests)
  local e = summary.errors
  local used, short, nxt = -1, -1, -1
  if threads ~= nil then
    used, short = 0, 0
    local most, first, stride = 0, 0, 1
    for _, t in ipairs(threads) do
      local n, avail = t:get("next_i"), t:get("available")
      used = used + math.min(n, avail)
      short = short + math.max(n - avail, 0)
      most = math.max(most, math.min(n, avail))
      first, stride = t:get("first"), t:get("stride")
    end
    nxt = first + most * stride
  end
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, '
      .. '"non2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"timeouts": %d, "tokens_used": %d, "tokens_short": %d, "tokens_next": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout, used, short, nxt))
end
