-- wrk script for bench/sensors.sh: each request is one reading of one of DETECTORS detectors, with timestamps that
-- never repeat (thread-specific offsets), so every reading is new to the idempotency check.
local detectors = tonumber(os.getenv("DETECTORS") or "5000")
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  tid = tid or 0
end

request = function()
  counter = counter + 1
  local n = counter * 8 + tid
  local d = n % detectors
  local ts = 1795000000000 + math.floor(n / detectors) * 500
  local body = string.format(
    '{"detector":"D-%05d","timestamp":%d,"event_count":%d,"coincidence_count":%d,"rate_hz":%.4f,"temperature_c":%.3f,' ..
    '"pressure_hpa":%.2f,"humidity_pct":%.2f,"sipm_voltage_v":29.41,"sipm_current_ua":1.12,"dead_time_ms":0.31,' ..
    '"adc_peak":%d,"adc_area":%d,"battery_v":3.91,"rssi_dbm":-71,"firmware":"muon-fw 2.4.1 (build 7f3a9c, \\"stable\\")"}\n',
    d, ts, 60 + n % 7, 12 + n % 3, 1.2 + (n % 10) / 100, 18 + (n % 40) / 10, 1013 + (n % 20) / 10, 45 + (n % 9), 800 + n % 50, 5100 + n % 200)
  return wrk.format("POST", "/apps/sensors/ingest", {["Content-Type"] = "application/x-ndjson"}, body)
end

response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
  end
end
