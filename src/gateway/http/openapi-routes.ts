import { Router } from 'express';
import { buildOpenApiDocument } from '../../protocol/openapi-document';

/** GET /api/openapi.json: the OpenAPI 3.1 document, built once (it depends on code only). */
export function createOpenApiRoutes({
  version = '0.1.0',
}: { /** The API version in `info`. Default 0.1.0. */ version?: string } = {}): Router {
  const router = Router();
  const document = buildOpenApiDocument({ version });
  router.get('/api/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}
