// The widget's element builder: widget/shared/dom.js, with the widget's id prefix.
import { uid as sharedUid } from '../../shared/dom.js';

export { el, nearBottom } from '../../shared/dom.js';

/** A unique element id (`nw-1`, ...), for label/for and aria-* references. */
export function uid(prefix = 'nw') {
  return sharedUid(prefix);
}
