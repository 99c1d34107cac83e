/**
 * `npm run bench:readme`: rewrites the README's benchmark table (between `<!-- bench:start -->`
 * and `<!-- bench:end -->`, nothing else) from bench/results/latest.json.
 */
import { README, updateReadme } from './readme-table.js';

const changed = await updateReadme();
process.stdout.write(`${changed ? 'Rewrote' : 'Unchanged:'} the benchmark table of ${README}\n`);
