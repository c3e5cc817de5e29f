-- bgudf: tiny module for background UDF capture
function set_bin(rec, name, value)
  rec[name] = value
  aerospike:update(rec)
end

function mark(rec)
  rec['marked'] = 1
  aerospike:update(rec)
end
