// The console's element builder: widget/shared/dom.js, with the console's id prefix.
import { uid as sharedUid } from '../../shared/dom.js';

export { el, nearBottom } from '../../shared/dom.js';

/** A unique element id (`nc-1`, ...), for label/for and aria-* references. */
export function uid(prefix = 'nc') {
  return sharedUid(prefix);
}
