// IEEE binary16 (FP16) and bfloat16 (BF16) bit patterns to and from JavaScript numbers. JavaScript
// (Node 20) has no 16-bit float arrays, so the engine carries both as Uint16Array bits. Rounding is
// to nearest, ties to even, straight from the double (no detour through float32, which would round
// twice); values past the largest finite one become infinities, as a hardware conversion does.

interface HalfFormat {
  mantissaBits: number;  // stored fraction bits: 10 for FP16, 7 for BF16
  bias: number;          // exponent bias: 15, 127
  infinity: number;      // bits of +Infinity
  nan: number;           // bits of the canonical quiet NaN
}

const FP16: HalfFormat = { mantissaBits: 10, bias: 15, infinity: 0x7c00, nan: 0x7e00 };
const BF16: HalfFormat = { mantissaBits: 7, bias: 127, infinity: 0x7f80, nan: 0x7fc0 };

export function float16Bits(value: number): number {
  return toBits(value, FP16);
}

export function bfloat16Bits(value: number): number {
  return toBits(value, BF16);
}

export function float16Value(bits: number): number {
  return fromBits(bits, FP16);
}

export function bfloat16Value(bits: number): number {
  return fromBits(bits, BF16);
}

function toBits(value: number, format: HalfFormat): number {
  if (Number.isNaN(value)) return format.nan;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  const minNormalExponent = 1 - format.bias;
  const maxExponent = format.bias;
  if (magnitude >= 2 ** (maxExponent + 1)) return sign | format.infinity;
  const exponent = Math.max(binaryExponent(magnitude), minNormalExponent);
  // Every multiple of `quantum` in [2^exponent, 2^(exponent+1)) is representable (and below the
  // smallest normal, every multiple of the subnormal quantum). Dividing by a power of two is exact,
  // so rounding the quotient to an integer is the only rounding. A mantissa that rounds up to
  // 2^(mantissaBits+1) carries into the exponent field by plain addition, up to infinity.
  const quantum = 2 ** (exponent - format.mantissaBits);
  const mantissa = roundHalfEven(magnitude / quantum);
  const implicitOne = 1 << format.mantissaBits;
  if (mantissa < implicitOne) return sign | mantissa;  // subnormal (or zero)
  return sign | (((exponent + format.bias) << format.mantissaBits) + (mantissa - implicitOne));
}

function fromBits(bits: number, format: HalfFormat): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponentField = (bits & 0x7fff) >> format.mantissaBits;
  const fraction = bits & ((1 << format.mantissaBits) - 1);
  const maxField = 2 * format.bias + 1;
  if (exponentField === maxField) return fraction === 0 ? sign * Infinity : NaN;
  if (exponentField === 0) return sign * fraction * 2 ** (1 - format.bias - format.mantissaBits);
  return sign * (fraction + (1 << format.mantissaBits)) * 2 ** (exponentField - format.bias - format.mantissaBits);
}

// floor(log2(x)) for a positive finite x, exactly (Math.log2 can be off by one near powers of two).
function binaryExponent(x: number): number {
  if (x === 0) return -Infinity;
  let exponent = Math.floor(Math.log2(x));
  if (2 ** exponent > x) exponent -= 1;
  else if (2 ** (exponent + 1) <= x) exponent += 1;
  return exponent;
}

// x is a non-negative double below 2^12; its fractional part is exact, so the comparison is too.
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
