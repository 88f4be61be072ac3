import { DEMO_REVIEWER_TOKENS } from './review/reviewer-tokens';
import { createSampleApp } from './sample.app';
import { sampleOptionsFromEnv } from './sample.options';

/** `npm start`: the sample agent backend on PORT (default 3000). See docs/sample.md. */
async function main(): Promise<void> {
  const options = sampleOptionsFromEnv();
  const app = await createSampleApp(options);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const url = await app.getUrl();
  console.log(`sample agent backend on ${url}`);
  if (options.reviewers === undefined) {
    const [token, principal] = Object.entries(DEMO_REVIEWER_TOKENS)[0];
    console.log(`review page: ${url}/review#token=${token} (signs you in as ${principal})`);
    console.log(
      `  using the DEMO reviewer tokens (${Object.keys(DEMO_REVIEWER_TOKENS).join(', ')}): anyone who ` +
        'read the sample can approve. Set SAMPLE_REVIEWER_TOKENS=token=principal,... for your own.',
    );
  } else {
    console.log(`review page: ${url}/review#token=<your reviewer token>`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
