import { createSampleApp } from './sample.app';
import { sampleOptionsFromEnv } from './sample.options';

/** `npm start`: the sample agent backend on PORT (default 3000). See docs/sample.md. */
async function main(): Promise<void> {
  const app = await createSampleApp(sampleOptionsFromEnv());
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const url = await app.getUrl();
  console.log(`sample agent backend on ${url} (review page: ${url}/review)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
