
function bump(rec, n)
  rec['c'] = (rec['c'] or 0) + n
  if aerospike:exists(rec) then aerospike:update(rec) else aerospike:create(rec) end
  return rec['c']
end
function boom(rec)
  error('boom')
end
