// Distance functions over float32 vectors in linear memory, SIMD128 (f32x4).
//
// One direction everywhere in the core: a smaller distance is closer.
//   l2     → squared Euclidean distance
//   cosine → 1 − dot, on vectors normalized at write
//   dot    → −dot
// Any dimension works: four accumulators over 16-float blocks, then 4-float
// blocks, then a scalar tail. Vectors stored in a segment are zero-padded to a
// multiple of 4, so the tail loop never runs on the hot path.

export const METRIC_L2: i32 = 0;
export const METRIC_COSINE: i32 = 1;
export const METRIC_DOT: i32 = 2;

/** Squared Euclidean distance of `dim` floats at `a` and `b`. */
export function l2sq(a: usize, b: usize, dim: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  const end16 = a + (<usize>(dim & ~15) << 2);
  while (a < end16) {
    const d0 = f32x4.sub(v128.load(a), v128.load(b));
    const d1 = f32x4.sub(v128.load(a, 16), v128.load(b, 16));
    const d2 = f32x4.sub(v128.load(a, 32), v128.load(b, 32));
    const d3 = f32x4.sub(v128.load(a, 48), v128.load(b, 48));
    s0 = f32x4.add(s0, f32x4.mul(d0, d0));
    s1 = f32x4.add(s1, f32x4.mul(d1, d1));
    s2 = f32x4.add(s2, f32x4.mul(d2, d2));
    s3 = f32x4.add(s3, f32x4.mul(d3, d3));
    a += 64;
    b += 64;
  }
  const end4 = end16 + (<usize>(dim & 12) << 2);
  while (a < end4) {
    const d = f32x4.sub(v128.load(a), v128.load(b));
    s0 = f32x4.add(s0, f32x4.mul(d, d));
    a += 16;
    b += 16;
  }
  let sum = horizontalSum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  const end = end4 + (<usize>(dim & 3) << 2);
  while (a < end) {
    const d = load<f32>(a) - load<f32>(b);
    sum += d * d;
    a += 4;
    b += 4;
  }
  return sum;
}

/** Dot product of `dim` floats at `a` and `b`. */
export function dot(a: usize, b: usize, dim: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  const end16 = a + (<usize>(dim & ~15) << 2);
  while (a < end16) {
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a), v128.load(b)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a, 16), v128.load(b, 16)));
    s2 = f32x4.add(s2, f32x4.mul(v128.load(a, 32), v128.load(b, 32)));
    s3 = f32x4.add(s3, f32x4.mul(v128.load(a, 48), v128.load(b, 48)));
    a += 64;
    b += 64;
  }
  const end4 = end16 + (<usize>(dim & 12) << 2);
  while (a < end4) {
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a), v128.load(b)));
    a += 16;
    b += 16;
  }
  let sum = horizontalSum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  const end = end4 + (<usize>(dim & 3) << 2);
  while (a < end) {
    sum += load<f32>(a) * load<f32>(b);
    a += 4;
    b += 4;
  }
  return sum;
}

// @ts-ignore: decorator
@inline
function horizontalSum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Distance under `metric` (see the file header for each metric's definition). */
// @ts-ignore: decorator
@inline
export function distanceOf(metric: i32, a: usize, b: usize, dim: i32): f32 {
  if (metric == METRIC_L2) return l2sq(a, b, dim);
  const d = dot(a, b, dim);
  return metric == METRIC_COSINE ? 1.0 - d : -d;
}

/** Scales `dim` floats at `v` to unit length; returns false (and leaves v) when the norm is 0. */
export function normalize(v: usize, dim: i32): bool {
  const norm = Mathf.sqrt(dot(v, v, dim));
  if (!(norm > 0)) return false;
  const scale = f32x4.splat(1.0 / norm);
  const end4 = v + (<usize>(dim & ~3) << 2);
  let p = v;
  while (p < end4) {
    v128.store(p, f32x4.mul(v128.load(p), scale));
    p += 16;
  }
  const end = v + (<usize>dim << 2);
  const inverse: f32 = 1.0 / norm;
  while (p < end) {
    store<f32>(p, load<f32>(p) * inverse);
    p += 4;
  }
  return true;
}
