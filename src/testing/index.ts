/**
 * `dogpile-cache/testing`: the shared backend conformance suite and a manual clock, for testing
 * backends (ours and third parties') and applications' regions.
 *
 * @module
 */
export {
  runBackendConformance,
  type BackendCapabilities,
  type BackendFactory,
  type TestContextLike,
  type TestRunner,
} from './conformance.js';
export { manualClock, type ManualClock } from '../clock.js';
export { runRegionConformance, type RegionFactory, type RegionFactoryOptions } from './region-conformance.js';
