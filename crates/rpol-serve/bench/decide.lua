-- wrk -s crates/rpol-serve/bench/decide.lua: POST the route request to /v1/decide.
wrk.method = "POST"
wrk.path = "/v1/decide"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("RPOL_REQUEST") or "policies/requests/granted.json"))
wrk.body = f:read("*a")
f:close()
