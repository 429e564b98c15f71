/**
 * A strict little XML parser for the tests: well-formedness (one root, matched tags, quoted
 * and unique attributes, only the predefined or numeric entities, no raw `<` or `&`) and a
 * tiny DOM to query. Throws on the first error with its offset.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** text directly inside this element (entity-decoded, concatenated) */
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;

function decode(s: string, at: number): string {
  return s.replace(/&([^;]*);?/g, (m, body: string) => {
    if (!m.endsWith(';')) throw new Error(`bare '&' at offset ${at}`);
    if (body === 'amp') return '&';
    if (body === 'lt') return '<';
    if (body === 'gt') return '>';
    if (body === 'quot') return '"';
    if (body === 'apos') return "'";
    if (/^#\d+$/.test(body)) return String.fromCodePoint(Number(body.slice(1)));
    if (/^#x[0-9a-fA-F]+$/.test(body)) return String.fromCodePoint(parseInt(body.slice(2), 16));
    throw new Error(`unknown entity &${body}; at offset ${at}`);
  });
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const n = src.length;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const skipWs = () => {
    while (i < n && /\s/.test(src[i]!)) i++;
  };
  if (src.startsWith('<?xml')) {
    const e = src.indexOf('?>');
    if (e < 0) throw new Error('unterminated XML declaration');
    i = e + 2;
  }
  while (i < n) {
    if (src[i] !== '<') {
      const next = src.indexOf('<', i);
      const end = next < 0 ? n : next;
      const raw = src.slice(i, end);
      if (stack.length === 0) {
        if (raw.trim()) throw new Error(`text outside the root element at offset ${i}`);
      } else {
        stack[stack.length - 1]!.text += decode(raw, i);
      }
      i = end;
      continue;
    }
    if (src.startsWith('<!--', i)) {
      const e = src.indexOf('-->', i + 4);
      if (e < 0) throw new Error(`unterminated comment at offset ${i}`);
      i = e + 3;
      continue;
    }
    if (src.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) throw new Error(`CDATA outside the root at offset ${i}`);
      const e = src.indexOf(']]>', i);
      if (e < 0) throw new Error(`unterminated CDATA at offset ${i}`);
      stack[stack.length - 1]!.text += src.slice(i + 9, e);
      i = e + 3;
      continue;
    }
    if (src[i + 1] === '/') {
      i += 2;
      const m = NAME.exec(src.slice(i));
      if (!m) throw new Error(`bad closing tag at offset ${i}`);
      i += m[0].length;
      skipWs();
      if (src[i] !== '>') throw new Error(`expected '>' at offset ${i}`);
      i++;
      const open = stack.pop();
      if (!open || open.name !== m[0]) throw new Error(`closing </${m[0]}> does not match <${open?.name ?? '(none)'}> at offset ${i}`);
      continue;
    }
    i++;
    const m = NAME.exec(src.slice(i));
    if (!m) throw new Error(`bad tag name at offset ${i}`);
    i += m[0].length;
    const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else {
      if (root) throw new Error(`second root element <${el.name}> at offset ${i}`);
      root = el;
    }
    for (;;) {
      const before = i;
      skipWs();
      if (src[i] === '/' && src[i + 1] === '>') {
        i += 2;
        break;
      }
      if (src[i] === '>') {
        i++;
        stack.push(el);
        break;
      }
      if (i === before) throw new Error(`expected whitespace before attribute at offset ${i}`);
      const a = NAME.exec(src.slice(i));
      if (!a) throw new Error(`bad attribute name at offset ${i}`);
      i += a[0].length;
      skipWs();
      if (src[i] !== '=') throw new Error(`expected '=' after attribute ${a[0]} at offset ${i}`);
      i++;
      skipWs();
      const q = src[i];
      if (q !== '"' && q !== "'") throw new Error(`unquoted value of attribute ${a[0]} at offset ${i}`);
      const e = src.indexOf(q, i + 1);
      if (e < 0) throw new Error(`unterminated attribute value at offset ${i}`);
      const raw = src.slice(i + 1, e);
      if (raw.includes('<')) throw new Error(`'<' in attribute ${a[0]} at offset ${i}`);
      if (Object.prototype.hasOwnProperty.call(el.attrs, a[0])) throw new Error(`duplicate attribute ${a[0]} at offset ${i}`);
      el.attrs[a[0]] = decode(raw, i);
      i = e + 1;
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** All descendants (and the element itself) with this tag name, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}

/** Elements whose class attribute contains `cls`. */
export function byClass(el: XmlElement, cls: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if ((e.attrs.class ?? '').split(/\s+/).includes(cls)) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}

/** Text of an element and all its descendants. */
export function allText(el: XmlElement): string {
  return el.text + el.children.map(allText).join('');
}
