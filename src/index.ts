// inferd's public API.
export { InferenceSession, inspectModel } from './engine/session.js';
export type { Backend, Feed, ModelOptions, ProviderName, RunOptions, SessionOptions, TensorMetadata } from './engine/session.js';
export { type Tensor, elementCount, isTensor, tensor } from './engine/tensor.js';
export type { RawTensor } from './engine/feeds.js';
export {
  DTYPES,
  type DType,
  type TypedArray,
  dtypeOfTypedArray,
  elementSize,
  isDType,
  typedArrayConstructorFor,
} from './engine/dtypes.js';
export { type EngineError, type EngineErrorCode, isEngineError } from './engine/errors.js';
export type { NativeInspection, NativeUnsupportedOp } from './engine/native-addon.js';
export { Engine, LoadedModel, type EngineOptions, type ModelDescription } from './engine/engine.js';
export type { InferOptions } from './engine/model-runner.js';
export type { InferResult, InferTiming } from './engine/infer-request.js';
export type { ModelConfig, ModelLoadOptions } from './engine/model-config.js';
export { ServingError, type ServingErrorCode } from './scheduler/errors.js';
