/**
 * The WASM SIMD kernel: loading, segments and the distance kernel.
 *
 * @module
 */

export { Kernel, KERNEL_WASM_URL, loadKernel } from "./kernel.ts";
export type { DistanceKernel, TopK } from "./distance_kernel.ts";
export { WasmDistanceKernel } from "./wasm_distance_kernel.ts";
export {
  type SegmentCounters,
  type SegmentHits,
  type SegmentImage,
  SegmentKernel,
  type SegmentParams,
  type SegmentState,
} from "./segment_kernel.ts";
export { isMetric, type Metric, METRIC_CODES, METRICS } from "./metric.ts";
