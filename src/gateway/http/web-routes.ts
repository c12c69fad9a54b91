import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { WEB_DIR } from '../../release/release-layout';

/**
 * The web pages: the chat client at `/`, the cluster view at `/admin`, their scripts and
 * stylesheet under `/assets`. They are built by `npm run build:web` (which `npm start`
 * runs first when web/ changed) into build/web, or by `npm run build` into dist/web; a
 * server started another way without a build says how to make one instead of answering 404.
 */
export function createWebRoutes({
  dir = WEB_DIR,
}: { /** The built client. Default build/web, or dist/web in a release build. */ dir?: string } = {}): Router {
  const router = Router();
  const page = (file: string) => (_req: express.Request, res: express.Response) => {
    const full = path.join(dir, file);
    if (!existsSync(full)) {
      res.status(503).type('text/plain').send('The web client is not built: run `npm run build:web` (npm start does it), then reload.\n');
      return;
    }
    res.sendFile(full, { headers: { 'Cache-Control': 'no-cache' } });
  };
  router.get('/', page('index.html'));
  router.get('/admin', page('admin.html'));
  router.use('/assets', express.static(path.join(dir, 'assets'), { index: false, fallthrough: true, maxAge: 0 }));
  return router;
}
