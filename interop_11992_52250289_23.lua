
function set_bin(rec, name, value)
  rec[name] = value
  aerospike:update(rec)
end
