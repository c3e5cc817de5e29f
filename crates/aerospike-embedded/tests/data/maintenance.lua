-- maintenance: record UDFs a batch job runs over a whole data set.

-- Removes records whose 'updated' bin (epoch seconds) is older than cutoff;
-- returns 1 when removed, 0 when kept.
function expire_old(rec, cutoff)
  if not aerospike:exists(rec) then
    return 0
  end
  local updated = rec['updated']
  if updated ~= nil and updated < cutoff then
    aerospike:remove(rec)
    return 1
  end
  return 0
end

-- Marks a record and gives it a fresh ttl; returns the generation it had.
function mark(rec, ttl)
  rec['marked'] = 1
  record.set_ttl(rec, ttl)
  aerospike:update(rec)
  return record.gen(rec)
end

-- Adds delta to an integer bin, creating the record when missing.
function add(rec, bin, delta)
  local v = rec[bin]
  if v == nil then v = 0 end
  rec[bin] = v + delta
  if aerospike:exists(rec) then
    aerospike:update(rec)
  else
    aerospike:create(rec)
  end
  return rec[bin]
end

-- Appends value to the list bin 'tags' unless it is already there.
function tag(rec, value)
  local tags = rec['tags']
  if tags == nil then
    tags = list()
  end
  for t in list.iterator(tags) do
    if t == value then
      return list.size(tags)
    end
  end
  list.append(tags, value)
  rec['tags'] = tags
  aerospike:update(rec)
  return list.size(tags)
end

-- Returns a map of bin name -> Lua type name of the bin's value.
function summarize(rec)
  local m = map()
  local names = record.bin_names(rec)
  for i = 1, #names do
    m[names[i]] = type(rec[names[i]])
  end
  return m
end
