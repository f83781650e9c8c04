// The tests' free ports come from the same helper as the demo's and the bench's.
export { freePort } from '../../scripts/private-redis.js';
