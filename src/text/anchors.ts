/**
 * The anchor of a section heading: the fragment a citation link ends with (`#3-1-encoder-and-decoder-stacks`)
 * and the id the rendered document gives that heading. One function for both, so they always agree.
 */
export function sectionAnchor(heading: string): string {
  const slug = heading
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/, "");
  return slug ? `s-${slug}` : "s";
}
