// Writes models/digits/samples.json: one held-out digit of each class (never seen in training), as
// the 784 pixel intensities the model takes. `npm start`'s demo and the README's curl use them.
import { writeFileSync } from 'node:fs';
import { splitDigits } from './digits-dataset.mjs';

const { heldOut } = splitDigits();
const samples = [];
for (let digit = 0; digit < 10; ++digit) {
  const sample = heldOut.find((s) => s.digit === digit);
  samples.push({ digit, pixels: Array.from(sample.pixels, (v) => Math.round(v * 1000) / 1000) });
}
writeFileSync('models/digits/samples.json', JSON.stringify(samples) + '\n');
console.log(`wrote models/digits/samples.json (${samples.length} digits)`);
