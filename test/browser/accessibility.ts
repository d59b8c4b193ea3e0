/**
 * Two accessibility checks run inside the page: text contrast against the colour behind it
 * (WCAG AA: 4.5:1, 3:1 for large text) and form controls without a name a screen reader can read.
 * The page code runs in Chromium; the test code has no DOM types, hence the loose typing inside.
 */
import type { Page } from 'playwright-core';

/** Visible text whose contrast is below WCAG AA, as "text: ratio (colour on background)". */
export async function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const doc = (globalThis as any).document;
    const win = globalThis as any;
    const rgba = (css: string): number[] => (css.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number).concat(1).slice(0, 4);
    const luminance = ([r, g, b]: number[]) =>
      [r!, g!, b!]
        .map((c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i]!, 0);
    const background = (node: any): number[] => {
      for (let n = node; n; n = n.parentElement) {
        const c = rgba(win.getComputedStyle(n).backgroundColor);
        if (c[3]! > 0.5) return c;
      }
      return [255, 255, 255, 1];
    };
    const problems: string[] = [];
    const walker = doc.createTreeWalker(doc.body, 4 /* NodeFilter.SHOW_TEXT */);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      const node = text.parentElement;
      if (!text.textContent.trim() || !node || !node.checkVisibility?.() || node.closest('.visually-hidden, video')) continue;
      const style = win.getComputedStyle(node);
      const fg = rgba(style.color);
      const bg = background(node);
      const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      const ratio = (l1! + 0.05) / (l2! + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5))
        problems.push(`${text.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)} (${style.color} on rgb(${bg.slice(0, 3).join(', ')}))`);
    }
    return problems;
  });
}

/** Visible form controls a screen reader could not name. */
export async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const doc = (globalThis as any).document;
    return [...doc.querySelectorAll('input, select, textarea, button')]
      .filter(
        (c: any) =>
          c.type !== 'hidden' &&
          !(c.labels?.length > 0) &&
          !c.getAttribute('aria-label') &&
          !c.getAttribute('aria-labelledby') &&
          !c.textContent.trim(),
      )
      .map((c: any) => c.outerHTML.slice(0, 80));
  });
}
