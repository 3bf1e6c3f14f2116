// A small ResNet-style CNN as torchvision models export (Conv without bias before every
// BatchNormalization, as `bias=False` convs are written), sized for tests:
//
//   input  'input'  float32 [batch, 3, 64, 64]
//   stem   Conv 7×7 stride 2 pad 3 (3→16) + BatchNormalization + Relu → 32×32, MaxPool 3×3 s2 p1 → 16×16
//   layer1 basic block 16→16: Conv 3×3 + BN + Relu, Conv 3×3 + BN, Add identity, Relu
//   layer2 basic block 16→32 stride 2: the same with the first conv strided, and the shortcut a
//          1×1 stride-2 Conv + BN projection → 8×8
//   layer3 basic block 32→32 whose first conv is depthwise (group = 32)
//   head   GlobalAveragePool → Flatten → Gemm (transB = 1) → 'logits' [batch, classes]
//
// Weights are seeded, uniform in ±√(3/fan_in) (unit-variance activations); BatchNormalization gets
// running means near 0, variances in [0.5, 1.5], scales in [0.5, 1.5] and shifts near 0, so folding
// it into the convolution (an optimizer's job) changes the numbers enough to check.
import { type InitializerSpec, type NodeSpec, buildModel, float } from './onnx-builder.js';
import { randomFloats } from './random.js';

export interface ResnetConfig {
  opset: number;
  width: number; // channels of the stem and layer1; layer2 and layer3 have twice as many
  classes: number;
  imageSize: number;
  seed: number;
}

export const defaultResnetConfig: ResnetConfig = { opset: 13, width: 16, classes: 10, imageSize: 64, seed: 77 };

export function smallResnet(overrides: Partial<ResnetConfig> = {}): Uint8Array {
  const config: ResnetConfig = { ...defaultResnetConfig, ...overrides };
  return new ResnetGraph(config).build();
}

interface ConvShape {
  kernel: number;
  stride?: number;
  group?: number;
}

class ResnetGraph {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  #seed: number;

  constructor(readonly config: ResnetConfig) {
    this.#seed = config.seed * 1000;
  }

  build(): Uint8Array {
    const { width, classes, imageSize, opset } = this.config;
    let x = this.#convBn('conv1', 'input', 3, width, { kernel: 7, stride: 2 });
    x = this.#node('Relu', 'relu', [x], ['relu_out']);
    x = this.#node('MaxPool', 'maxpool', [x], ['maxpool_out'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });

    x = this.#basicBlock('layer1.0', x, width, width, 1, false);
    x = this.#basicBlock('layer2.0', x, width, 2 * width, 2, false);
    x = this.#basicBlock('layer3.0', x, 2 * width, 2 * width, 1, true);

    const pooled = this.#node('GlobalAveragePool', 'avgpool', [x], ['avgpool_out']);
    const flat = this.#node('Flatten', 'flatten', [pooled], ['flatten_out'], { axis: 1 });
    const scale = 1 / Math.sqrt(2 * width);
    const weight = this.#weight('fc.weight', [classes, 2 * width], scale);
    const bias = this.#weight('fc.bias', [classes], scale);
    this.#node('Gemm', 'fc', [flat, weight, bias], ['logits'], { alpha: float(1), beta: float(1), transB: 1 });

    return buildModel({
      opset,
      inputs: [{ name: 'input', dtype: 'float32', dims: ['batch', 3, imageSize, imageSize] }],
      outputs: [{ name: 'logits', dtype: 'float32', dims: ['batch', classes] }],
      initializers: this.initializers,
      nodes: this.nodes,
    });
  }

  // conv3×3 + BN + Relu, conv3×3 + BN, + shortcut, Relu. `depthwise` makes the first conv one
  // filter per channel (in === out).
  #basicBlock(prefix: string, input: string, inChannels: number, outChannels: number, stride: number, depthwise: boolean): string {
    const group = depthwise ? inChannels : 1;
    let x = this.#convBn(`${prefix}.conv1`, input, inChannels, outChannels, { kernel: 3, stride, group });
    x = this.#node('Relu', `${prefix}.relu1`, [x], [`${prefix}.relu1_out`]);
    x = this.#convBn(`${prefix}.conv2`, x, outChannels, outChannels, { kernel: 3 });
    const shortcut = stride === 1 && inChannels === outChannels
      ? input
      : this.#convBn(`${prefix}.downsample`, input, inChannels, outChannels, { kernel: 1, stride });
    const sum = this.#node('Add', `${prefix}.add`, [x, shortcut], [`${prefix}.add_out`]);
    return this.#node('Relu', `${prefix}.relu2`, [sum], [`${prefix}.out`]);
  }

  // Conv (no bias, padding kernel/2 so stride 1 keeps the size) followed by BatchNormalization.
  #convBn(prefix: string, input: string, inChannels: number, outChannels: number, shape: ConvShape): string {
    const { kernel, stride = 1, group = 1 } = shape;
    const fanIn = (inChannels / group) * kernel * kernel;
    const weight = this.#weight(`${prefix}.weight`, [outChannels, inChannels / group, kernel, kernel], Math.sqrt(3 / fanIn));
    const pad = Math.floor(kernel / 2);
    const conv = this.#node('Conv', `${prefix}`, [input, weight], [`${prefix}_out`], {
      dilations: [1, 1], group, kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad], strides: [stride, stride],
    });
    const bn = prefix.replace(/conv(\d)$/, 'bn$1').replace(/downsample$/, 'downsample.bn').replace(/^conv1$/, 'bn1');
    const gammaName = this.#named(`${bn}.weight`, [outChannels], shifted(randomFloats(outChannels, this.#nextSeed(), 0.5), 1));
    const betaName = this.#weight(`${bn}.bias`, [outChannels], 0.1);
    const meanName = this.#weight(`${bn}.running_mean`, [outChannels], 0.1);
    const varName = this.#named(`${bn}.running_var`, [outChannels], shifted(randomFloats(outChannels, this.#nextSeed(), 0.5), 1));
    return this.#node('BatchNormalization', `${bn}`, [conv, gammaName, betaName, meanName, varName], [`${bn}_out`], {
      epsilon: 1e-5, momentum: 0.9,
    });
  }

  #node(op: string, name: string, inputs: readonly string[], outputs: readonly string[], attributes?: NodeSpec['attributes']): string {
    this.nodes.push({ op, name, inputs, outputs, ...(attributes ? { attributes } : {}) });
    return outputs[0] as string;
  }

  #weight(name: string, dims: readonly number[], scale: number): string {
    return this.#named(name, dims, randomFloats(dims.reduce((a, b) => a * b, 1), this.#nextSeed(), scale));
  }

  #named(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push({ name, dtype: 'float32', dims, data });
    return name;
  }

  #nextSeed(): number {
    return this.#seed++;
  }
}

function shifted(values: Float32Array, by: number): Float32Array {
  return values.map((v) => v + by);
}
