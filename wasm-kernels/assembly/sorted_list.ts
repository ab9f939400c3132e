// A bounded list of (distance f32, id u32) entries kept sorted by ascending
// distance, 8 bytes an entry, in a fixed region of linear memory. It serves as
// the search frontier (the "ef" list), the result list, and the scratch list of
// neighbour selection. Ids may carry the EXPANDED flag in their top bit.

export const EXPANDED: u32 = 0x80000000;
export const ID_MASK: u32 = 0x7fffffff;

/** Position at which the last successful `listInsert` wrote its entry. */
export let lastInsertIndex: i32 = 0;

// @ts-ignore: decorator
@inline
export function entryDistance(list: usize, index: i32): f32 {
  return load<f32>(list + (<usize>index << 3));
}

// @ts-ignore: decorator
@inline
export function entryId(list: usize, index: i32): u32 {
  return load<u32>(list + (<usize>index << 3), 4);
}

/**
 * Inserts (distance, id) keeping the order; when the list is full the worst
 * entry falls off, and an entry no better than the worst is not inserted.
 * Returns the new size; `lastInsertIndex` tells where the entry went, or is
 * `capacity` when it was rejected.
 */
export function listInsert(list: usize, size: i32, capacity: i32, distance: f32, id: u32): i32 {
  if (size == capacity && !(distance < entryDistance(list, size - 1))) {
    lastInsertIndex = capacity;
    return size;
  }
  let low = 0;
  let high = size;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entryDistance(list, middle) <= distance) low = middle + 1;
    else high = middle;
  }
  const last = size == capacity ? size - 1 : size;
  const stop = list + (<usize>low << 3);
  if (last > low) memory.copy(stop + 8, stop, <usize>(last - low) << 3);
  store<f32>(stop, distance);
  store<u32>(stop, id, 4);
  lastInsertIndex = low;
  return size == capacity ? size : size + 1;
}
