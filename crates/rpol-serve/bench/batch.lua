-- wrk -s crates/rpol-serve/bench/batch.lua: POST a batch of RPOL_BATCH (default
-- 1000) copies of the route request to /v1/decide/batch.
wrk.method = "POST"
wrk.path = "/v1/decide/batch"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("RPOL_REQUEST") or "policies/requests/granted.json"))
local one = f:read("*a")
f:close()
local n = tonumber(os.getenv("RPOL_BATCH") or "1000")
local items = {}
for i = 1, n do items[i] = one end
wrk.body = '{"requests":[' .. table.concat(items, ",") .. ']}'
