// `inferd inspect`: what a user needs to know about a model before serving it.
import { inspectModel } from '../engine/session.js';

export function runInspect(modelPath: string, json: boolean): number {
  const info = inspectModel(modelPath);
  if (json) {
    console.log(JSON.stringify(info, null, 2));
    return info.unsupported.length === 0 ? 0 : 1;
  }
  const describe = (t: { name: string; dtype: string; dims: number[]; dimNames: (string | null)[] }) =>
    `  ${t.name}: ${t.dtype}[${t.dims.map((d, i) => (d >= 0 ? String(d) : (t.dimNames[i] ?? '?'))).join(', ')}]`;
  console.log(`model     ${modelPath}`);
  console.log(`producer  ${info.producer || '(unknown)'}, IR version ${info.irVersion}`);
  console.log(`opsets    ${Object.entries(info.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}`);
  console.log(`weights   ${(info.weightBytes / 1e6).toFixed(2)} MB`);
  console.log('inputs');
  info.inputs.forEach((t) => console.log(describe(t)));
  console.log('outputs');
  info.outputs.forEach((t) => console.log(describe(t)));
  console.log('ops');
  for (const [op, count] of Object.entries(info.opCensus).sort((a, b) => b[1] - a[1])) console.log(`  ${op} ×${count}`);
  if (info.unsupported.length > 0) {
    console.log(`unsupported (${info.unsupported.length})`);
    info.unsupported.forEach((u) => console.log(`  ${u.opType} (opset ${u.opset}) in node '${u.nodeName}'`));
    return 1;
  }
  console.log('every op is supported');
  return 0;
}
