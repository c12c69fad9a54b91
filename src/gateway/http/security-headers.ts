import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Security headers for what this server answers: JSON under /api and a web page (with its
 * scripts and styles) from the same origin. Helmet sets the standard set; this picks:
 *
 * - a CSP that lets a page load only its own scripts, styles, images and connections
 *   ('self' covers same-origin ws:/wss: in CSP 3), with no inline script (an XSS in a
 *   message then runs nothing), no plugins, no framing (clickjacking), forms to self only;
 * - X-Frame-Options DENY, for browsers without frame-ancestors;
 * - HSTS (browsers ignore it over plain http, so local development is unaffected);
 * - no Referer, nosniff, same-origin resource and opener policies (Helmet defaults);
 * - `Cache-Control: no-store` on /api: answers carry tokens and private messages, and no
 *   shared or browser cache should keep them.
 *
 * Inline styles are allowed: a style cannot run code, and small pages use them.
 */
export function securityHeaders(): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      frameguard: { action: 'deny' },
    }),
    (req, res, next) => {
      if (req.path.startsWith('/api/')) res.setHeader('Cache-Control', 'no-store');
      next();
    },
  ];
}
