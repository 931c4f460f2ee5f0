/**
 * The page's one derivation module (docs/STEPS.md): every step of every
 * operation the page animates, from the answer's geometry and the tensors.
 * correlate.js holds the core and conv2d (what the first view needs); loading
 * gradients.js and pool.js adds the rest. This entry loads everything: the
 * backward view, the tests and the oracle (tests/js/oracle/derive_oracle.mjs)
 * import it.
 */

import './gradients.js';
import './pool.js';

export { correlation, derive, flatten, padSource } from './correlate.js';
