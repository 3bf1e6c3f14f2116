// A small BERT-style encoder, built node by node the way torch.onnx.export writes Hugging Face's
// BertModel (opset 14+): the same ops, the same shape arithmetic, the same constants, only smaller.
//
//   inputs  input_ids, attention_mask: int64 [batch, sequence] (both dims dynamic)
//   outputs last_hidden_state: float32 [batch, sequence, hidden]
//           pooler_output:     float32 [batch, hidden] (Tanh(Linear(first token)))
//
// What the graph contains, and why each part is there:
// - Embeddings: Gather from word, position and token-type tables. Position ids and token-type ids
//   are constant buffers Sliced to the sequence length read with Shape/Gather, token types Expanded
//   to [batch, sequence], as exporters trace `self.position_ids[:, :seq_length]`.
// - The padding mask: attention_mask Unsqueezed to [batch, 1, 1, sequence], Cast to float,
//   (1 - mask) · float32 lowest, Added to every head's scores.
// - Each layer: Q/K/V as MatMul + Add; heads split with a Reshape whose shape is Concat'ed from
//   Shape → Gather → Unsqueeze pieces and constants, then Transpose; scores MatMul, Div by √d,
//   Softmax, MatMul with V, Transpose back and Reshape (again from computed dims), output
//   projection, residual Add, normalization; GELU feed-forward in the Erf form
//   (x · 0.5 · (1 + erf(x / √2))), residual Add, normalization.
// - Normalization is LayerNormalization (opset 17+) in every layer except those listed in
//   `decomposedLayers`, which get the ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add pattern
//   older exporters emit (and always below opset 17), so the optimizer's pattern matching has
//   something to find.
// - Layers alternate two spellings of Kᵀ seen in exports: Transpose(0,2,3,1) straight from the
//   reshaped K, or Transpose(0,2,1,3) followed by Transpose(0,1,3,2).
//
// Weights are seeded uniform: matrices in ±1/√fan_in so activations keep unit scale, norm scales
// around 1 and shifts around 0, so a wrong op shows up as a large difference, not a rounding one.
import { type InitializerSpec, type NodeSpec, buildModel, float } from './onnx-builder.js';
import { randomFloats } from './random.js';

export interface BertConfig {
  opset: number; // 14 or later
  vocabSize: number;
  hidden: number;
  heads: number;
  intermediate: number;
  layers: number;
  maxPositions: number;
  typeVocabSize: number;
  decomposedLayers: readonly number[]; // layers whose norms are written out as primitive ops
  seed: number;
}

export const defaultBertConfig: BertConfig = {
  opset: 17,
  vocabSize: 120,
  hidden: 64,
  heads: 4,
  intermediate: 128,
  layers: 3,
  maxPositions: 40,
  typeVocabSize: 2,
  decomposedLayers: [1],
  seed: 2024,
};

const FLOAT32_LOWEST = -3.4028234663852886e38; // torch.finfo(torch.float32).min
const LAYER_NORM_EPSILON = 1e-12;

export function bertEncoder(overrides: Partial<BertConfig> = {}): Uint8Array {
  const config: BertConfig = { ...defaultBertConfig, ...overrides };
  if (config.opset < 14) throw new Error('bertEncoder: opset 14 or later');
  if (config.hidden % config.heads !== 0) throw new Error('bertEncoder: hidden must divide into heads');
  return new BertGraph(config).build();
}

class BertGraph {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  #seed: number;
  #constants = 0;

  constructor(readonly config: BertConfig) {
    this.#seed = config.seed * 1000;
  }

  build(): Uint8Array {
    const { config } = this;
    const mask = this.#extendedMask();
    let hidden = this.#embeddings();
    for (let layer = 0; layer < config.layers; ++layer) hidden = this.#layer(layer, hidden, mask);
    this.#node('Identity', 'last_hidden_state_out', [hidden], ['last_hidden_state']);
    this.#pooler('last_hidden_state');

    return buildModel({
      opset: config.opset,
      inputs: [
        { name: 'input_ids', dtype: 'int64', dims: ['batch', 'sequence'] },
        { name: 'attention_mask', dtype: 'int64', dims: ['batch', 'sequence'] },
      ],
      outputs: [
        { name: 'last_hidden_state', dtype: 'float32', dims: ['batch', 'sequence', config.hidden] },
        { name: 'pooler_output', dtype: 'float32', dims: ['batch', config.hidden] },
      ],
      initializers: this.initializers,
      nodes: this.nodes,
    });
  }

  // --- embeddings -----------------------------------------------------------------------------

  #embeddings(): string {
    const { hidden, vocabSize, maxPositions, typeVocabSize } = this.config;
    const prefix = 'embeddings';
    const words = this.#weight(`${prefix}.word_embeddings.weight`, [vocabSize, hidden], 1);
    const positions = this.#weight(`${prefix}.position_embeddings.weight`, [maxPositions, hidden], 0.5);
    const types = this.#weight(`${prefix}.token_type_embeddings.weight`, [typeVocabSize, hidden], 0.5);
    const positionIds = this.#ints(`${prefix}.position_ids`, [1, maxPositions], Array.from({ length: maxPositions }, (_, i) => i));
    const tokenTypeIds = this.#ints(`${prefix}.token_type_ids`, [1, maxPositions], new Array<number>(maxPositions).fill(0));

    // seq_length = input_ids.shape[1]; batch = input_ids.shape[0]
    const inputShape = this.#node('Shape', `${prefix}/Shape`, ['input_ids'], [`${prefix}/Shape_output_0`]);
    const batch = this.#node('Gather', `${prefix}/Gather_batch`, [inputShape, this.#constantInt(0)], [`${prefix}/batch`], { axis: 0 });
    const sequence = this.#node('Gather', `${prefix}/Gather_seq`, [inputShape, this.#constantInt(1)], [`${prefix}/seq`], { axis: 0 });
    const sequence1 = this.#unsqueeze(sequence, 0, `${prefix}/Unsqueeze_seq`);
    const batch1 = this.#unsqueeze(batch, 0, `${prefix}/Unsqueeze_batch`);

    // position_ids[:, 0:seq_length]
    const slicedPositions = this.#node('Slice', `${prefix}/Slice_position_ids`,
      [positionIds, this.#constantInts([0]), sequence1, this.#constantInts([1]), this.#constantInts([1])], [`${prefix}/position_ids_sliced`]);
    // token_type_ids[:, 0:seq_length].expand(batch, seq_length)
    const slicedTypes = this.#node('Slice', `${prefix}/Slice_token_type_ids`,
      [tokenTypeIds, this.#constantInts([0]), sequence1, this.#constantInts([1]), this.#constantInts([1])], [`${prefix}/token_type_ids_sliced`]);
    const expandShape = this.#node('Concat', `${prefix}/Concat_expand_shape`, [batch1, sequence1], [`${prefix}/expand_shape`], { axis: 0 });
    const expandedTypes = this.#node('Expand', `${prefix}/Expand_token_type_ids`, [slicedTypes, expandShape], [`${prefix}/token_type_ids`]);

    const wordVectors = this.#node('Gather', `${prefix}/word_embeddings/Gather`, [words, 'input_ids'], [`${prefix}/word_vectors`]);
    const typeVectors = this.#node('Gather', `${prefix}/token_type_embeddings/Gather`, [types, expandedTypes], [`${prefix}/type_vectors`]);
    const positionVectors = this.#node('Gather', `${prefix}/position_embeddings/Gather`, [positions, slicedPositions], [`${prefix}/position_vectors`]);
    const sum1 = this.#node('Add', `${prefix}/Add`, [wordVectors, typeVectors], [`${prefix}/Add_output_0`]);
    const sum2 = this.#node('Add', `${prefix}/Add_1`, [sum1, positionVectors], [`${prefix}/Add_1_output_0`]);
    return this.#norm(`${prefix}/LayerNorm`, sum2, this.config.opset < 17);
  }

  // (1 - attention_mask[:, None, None, :].float()) * finfo.min, added to every head's scores.
  #extendedMask(): string {
    const prefix = 'mask';
    const unsqueezed = this.#node('Unsqueeze', `${prefix}/Unsqueeze`, ['attention_mask', this.#constantInts([1, 2])], [`${prefix}/Unsqueeze_output_0`]);
    const asFloat = this.#node('Cast', `${prefix}/Cast`, [unsqueezed], [`${prefix}/Cast_output_0`], { to: 1 });
    const inverted = this.#node('Sub', `${prefix}/Sub`, [this.#constantFloat(1), asFloat], [`${prefix}/Sub_output_0`]);
    return this.#node('Mul', `${prefix}/Mul`, [inverted, this.#constantFloat(FLOAT32_LOWEST)], [`${prefix}/Mul_output_0`]);
  }

  // --- one encoder layer ------------------------------------------------------------------------

  #layer(layer: number, input: string, mask: string): string {
    const { hidden, heads, intermediate, opset } = this.config;
    const headSize = hidden / heads;
    const decomposed = opset < 17 || this.config.decomposedLayers.includes(layer);
    const prefix = `encoder/layer.${layer}`;
    const att = `${prefix}/attention/self`;

    const query = this.#linear(`${att}/query`, input, hidden, hidden);
    const key = this.#linear(`${att}/key`, input, hidden, hidden);
    const value = this.#linear(`${att}/value`, input, hidden, hidden);

    const queryHeads = this.#node('Transpose', `${att}/Transpose_q`, [this.#splitHeads(`${att}/q`, query)], [`${att}/q_heads`], { perm: [0, 2, 1, 3] });
    const valueHeads = this.#node('Transpose', `${att}/Transpose_v`, [this.#splitHeads(`${att}/v`, value)], [`${att}/v_heads`], { perm: [0, 2, 1, 3] });
    let keyTransposed: string;
    if (layer % 2 === 0) {
      keyTransposed = this.#node('Transpose', `${att}/Transpose_k`, [this.#splitHeads(`${att}/k`, key)], [`${att}/k_t`], { perm: [0, 2, 3, 1] });
    } else {
      const keyHeads = this.#node('Transpose', `${att}/Transpose_k`, [this.#splitHeads(`${att}/k`, key)], [`${att}/k_heads`], { perm: [0, 2, 1, 3] });
      keyTransposed = this.#node('Transpose', `${att}/Transpose_k_t`, [keyHeads], [`${att}/k_t`], { perm: [0, 1, 3, 2] });
    }

    const scores = this.#node('MatMul', `${att}/MatMul`, [queryHeads, keyTransposed], [`${att}/scores`]);
    const scaled = this.#node('Div', `${att}/Div`, [scores, this.#constantFloat(Math.sqrt(headSize))], [`${att}/scores_scaled`]);
    const masked = this.#node('Add', `${att}/Add_mask`, [scaled, mask], [`${att}/scores_masked`]);
    const probs = this.#node('Softmax', `${att}/Softmax`, [masked], [`${att}/probs`], { axis: -1 });
    const context = this.#node('MatMul', `${att}/MatMul_1`, [probs, valueHeads], [`${att}/context`]);
    const contextBack = this.#node('Transpose', `${att}/Transpose_context`, [context], [`${att}/context_t`], { perm: [0, 2, 1, 3] });
    const merged = this.#mergeHeads(`${att}/merge`, contextBack);

    const attOut = `${prefix}/attention/output`;
    const projected = this.#linear(`${attOut}/dense`, merged, hidden, hidden);
    const residual1 = this.#node('Add', `${attOut}/Add`, [projected, input], [`${attOut}/residual`]);
    const normed1 = this.#norm(`${attOut}/LayerNorm`, residual1, decomposed);

    const up = this.#linear(`${prefix}/intermediate/dense`, normed1, hidden, intermediate);
    const activated = this.#geluErf(`${prefix}/intermediate/gelu`, up);
    const down = this.#linear(`${prefix}/output/dense`, activated, intermediate, hidden);
    const residual2 = this.#node('Add', `${prefix}/output/Add`, [down, normed1], [`${prefix}/output/residual`]);
    return this.#norm(`${prefix}/output/LayerNorm`, residual2, decomposed);
  }

  // x.view(x.size()[:-1] + (heads, head_size)): the new shape is Concat'ed from x's own dims.
  #splitHeads(prefix: string, x: string): string {
    const { hidden, heads } = this.config;
    const shape = this.#node('Shape', `${prefix}/Shape`, [x], [`${prefix}/Shape_output_0`]);
    const batch = this.#unsqueeze(this.#node('Gather', `${prefix}/Gather`, [shape, this.#constantInt(0)], [`${prefix}/Gather_output_0`], { axis: 0 }), 0, `${prefix}/Unsqueeze`);
    const sequence = this.#unsqueeze(this.#node('Gather', `${prefix}/Gather_1`, [shape, this.#constantInt(1)], [`${prefix}/Gather_1_output_0`], { axis: 0 }), 0, `${prefix}/Unsqueeze_1`);
    const newShape = this.#node('Concat', `${prefix}/Concat`, [batch, sequence, this.#constantInts([heads]), this.#constantInts([hidden / heads])], [`${prefix}/Concat_output_0`], { axis: 0 });
    return this.#node('Reshape', `${prefix}/Reshape`, [x, newShape], [`${prefix}/Reshape_output_0`]);
  }

  // context.view(context.size()[:-2] + (hidden,)), after the transpose back to [b, s, heads, d].
  #mergeHeads(prefix: string, x: string): string {
    const shape = this.#node('Shape', `${prefix}/Shape`, [x], [`${prefix}/Shape_output_0`]);
    const batch = this.#unsqueeze(this.#node('Gather', `${prefix}/Gather`, [shape, this.#constantInt(0)], [`${prefix}/Gather_output_0`], { axis: 0 }), 0, `${prefix}/Unsqueeze`);
    const sequence = this.#unsqueeze(this.#node('Gather', `${prefix}/Gather_1`, [shape, this.#constantInt(1)], [`${prefix}/Gather_1_output_0`], { axis: 0 }), 0, `${prefix}/Unsqueeze_1`);
    const newShape = this.#node('Concat', `${prefix}/Concat`, [batch, sequence, this.#constantInts([this.config.hidden])], [`${prefix}/Concat_output_0`], { axis: 0 });
    return this.#node('Reshape', `${prefix}/Reshape`, [x, newShape], [`${prefix}/Reshape_output_0`]);
  }

  // nn.Linear as exported on a 3-D input: MatMul by the transposed weight, then Add the bias.
  #linear(prefix: string, x: string, fanIn: number, fanOut: number): string {
    const scale = 1 / Math.sqrt(fanIn);
    const weight = this.#weight(`${prefix}.weight_t`, [fanIn, fanOut], scale);
    const bias = this.#weight(`${prefix}.bias`, [fanOut], scale);
    const product = this.#node('MatMul', `${prefix}/MatMul`, [x, weight], [`${prefix}/MatMul_output_0`]);
    return this.#node('Add', `${prefix}/Add`, [bias, product], [`${prefix}/Add_output_0`]);
  }

  // GELU as torch exports nn.functional.gelu(approximate='none') below opset 20.
  #geluErf(prefix: string, x: string): string {
    const scaled = this.#node('Div', `${prefix}/Div`, [x, this.#constantFloat(Math.SQRT2)], [`${prefix}/Div_output_0`]);
    const erf = this.#node('Erf', `${prefix}/Erf`, [scaled], [`${prefix}/Erf_output_0`]);
    const onePlus = this.#node('Add', `${prefix}/Add`, [erf, this.#constantFloat(1)], [`${prefix}/Add_output_0`]);
    const times = this.#node('Mul', `${prefix}/Mul`, [x, onePlus], [`${prefix}/Mul_output_0`]);
    return this.#node('Mul', `${prefix}/Mul_1`, [times, this.#constantFloat(0.5)], [`${prefix}/Mul_1_output_0`]);
  }

  // LayerNormalization over the last axis: the opset 17 op, or the pattern exporters wrote before it.
  #norm(prefix: string, x: string, decomposed: boolean): string {
    const { hidden } = this.config;
    const gamma = this.#named(`${prefix}.weight`, [hidden], Float32Array.from(randomFloats(hidden, this.#nextSeed(), 0.25), (v) => 1 + v));
    const beta = this.#weight(`${prefix}.bias`, [hidden], 0.1);
    if (!decomposed) {
      return this.#node('LayerNormalization', `${prefix}/LayerNormalization`, [x, gamma, beta], [`${prefix}/output`],
        { axis: -1, epsilon: LAYER_NORM_EPSILON });
    }
    const mean = this.#node('ReduceMean', `${prefix}/ReduceMean`, [x], [`${prefix}/ReduceMean_output_0`], { axes: [-1], keepdims: 1 });
    const centered = this.#node('Sub', `${prefix}/Sub`, [x, mean], [`${prefix}/Sub_output_0`]);
    const squared = this.#node('Pow', `${prefix}/Pow`, [centered, this.#constantFloat(2)], [`${prefix}/Pow_output_0`]);
    const variance = this.#node('ReduceMean', `${prefix}/ReduceMean_1`, [squared], [`${prefix}/ReduceMean_1_output_0`], { axes: [-1], keepdims: 1 });
    const padded = this.#node('Add', `${prefix}/Add`, [variance, this.#constantFloat(LAYER_NORM_EPSILON)], [`${prefix}/Add_output_0`]);
    const deviation = this.#node('Sqrt', `${prefix}/Sqrt`, [padded], [`${prefix}/Sqrt_output_0`]);
    const normalized = this.#node('Div', `${prefix}/Div`, [centered, deviation], [`${prefix}/Div_output_0`]);
    const scaled = this.#node('Mul', `${prefix}/Mul`, [normalized, gamma], [`${prefix}/Mul_output_0`]);
    return this.#node('Add', `${prefix}/Add_1`, [scaled, beta], [`${prefix}/output`]);
  }

  // BertPooler: Tanh(Linear(hidden_states[:, 0])).
  #pooler(hidden: string): void {
    const prefix = 'pooler';
    const first = this.#node('Gather', `${prefix}/Gather`, [hidden, this.#constantInt(0)], [`${prefix}/first_token`], { axis: 1 });
    const size = this.config.hidden;
    const weight = this.#weight(`${prefix}.dense.weight`, [size, size], 1 / Math.sqrt(size));
    const bias = this.#weight(`${prefix}.dense.bias`, [size], 1 / Math.sqrt(size));
    const dense = this.#node('Gemm', `${prefix}/dense/Gemm`, [first, weight, bias], [`${prefix}/dense_output`], { alpha: float(1), beta: float(1), transB: 1 });
    this.#node('Tanh', `${prefix}/Tanh`, [dense], ['pooler_output']);
  }

  // --- graph plumbing -------------------------------------------------------------------------

  #node(op: string, name: string, inputs: readonly string[], outputs: readonly string[], attributes?: NodeSpec['attributes']): string {
    this.nodes.push({ op, name, inputs, outputs, ...(attributes ? { attributes } : {}) });
    return outputs[0] as string;
  }

  #unsqueeze(x: string, axis: number, name: string): string {
    return this.#node('Unsqueeze', name, [x, this.#constantInts([axis])], [`${name}_output_0`]);
  }

  // Exporters write small constants as Constant nodes rather than initializers.
  #constantFloat(value: number): string {
    const name = `Constant_${this.#constants++}_output_0`;
    this.nodes.push({ op: 'Constant', name: name.replace('_output_0', ''), inputs: [], outputs: [name], attributes: { value_float: float(value) } });
    return name;
  }

  #constantInts(values: readonly number[]): string {
    const name = `Constant_${this.#constants++}_output_0`;
    this.nodes.push({ op: 'Constant', name: name.replace('_output_0', ''), inputs: [], outputs: [name], attributes: { value_ints: values } });
    return name;
  }

  // A 0-d int64 (a Gather index that drops the axis), as an initializer: value_int makes a scalar too,
  // but torch writes these as tensors.
  #constantInt(value: number): string {
    const name = `scalar_int_${this.#constants++}`;
    this.initializers.push({ name, dtype: 'int64', dims: [], data: [value] });
    return name;
  }

  #ints(name: string, dims: readonly number[], data: readonly number[]): string {
    this.initializers.push({ name, dtype: 'int64', dims, data });
    return name;
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
