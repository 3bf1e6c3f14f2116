// The Open Inference Protocol's datatype names and the engine dtypes they stand for. BYTES (strings)
// has no engine dtype: ONNX models served here take numeric and boolean tensors only.
import type { DType } from '../engine/dtypes.js';
import { badRequest } from './http-error.js';

export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BF16';

const dtypeByDatatype: Record<OipDatatype, DType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BF16: 'bfloat16',
};

const datatypeByDType = Object.fromEntries(
  Object.entries(dtypeByDatatype).map(([datatype, dtype]) => [dtype, datatype]),
) as Record<DType, OipDatatype>;

export const OIP_DATATYPES: readonly OipDatatype[] = Object.freeze(Object.keys(dtypeByDatatype) as OipDatatype[]);

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && Object.hasOwn(dtypeByDatatype, value);
}

// "FP32" for float32.
export function datatypeOf(dtype: DType): OipDatatype {
  return datatypeByDType[dtype];
}

// float32 for "FP32".
export function dtypeOf(datatype: OipDatatype): DType {
  return dtypeByDatatype[datatype];
}

// The dtype a request's `datatype` field names, or a 400 that says what `subject` (e.g. "input 'x'")
// got wrong.
export function parseDatatype(value: unknown, subject: string): OipDatatype {
  if (isOipDatatype(value)) return value;
  if (value === 'BYTES') {
    throw badRequest(`${subject}: datatype 'BYTES' is not supported; inferd serves numeric and boolean tensors (${OIP_DATATYPES.join(', ')})`);
  }
  if (typeof value !== 'string') {
    throw badRequest(`${subject}: 'datatype' must be a string, one of ${OIP_DATATYPES.join(', ')}`);
  }
  throw badRequest(`${subject}: datatype '${value}' is not one of ${OIP_DATATYPES.join(', ')}`);
}
