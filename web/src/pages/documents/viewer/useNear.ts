/** Whether an element is within `margin` of what its scrolling `root` shows (pages and thumbnails draw only then). */
import { useEffect, useState, type RefObject } from "react";

export function useNear(element: RefObject<HTMLElement | null>, root: HTMLElement | null, margin: string): boolean {
  const [near, setNear] = useState(false);
  useEffect(() => {
    const target = element.current;
    if (target === null) return;
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) setNear(entry.isIntersecting);
      },
      { root, rootMargin: margin },
    );
    observer.observe(target);
    return () => {
      observer.disconnect();
    };
  }, [element, root, margin]);
  return near;
}
