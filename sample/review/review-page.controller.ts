import { Controller, Get, Header } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { sampleFile } from '../sample.paths';

/** Serves the review page: one HTML file with its script inline, no build step. */
@Controller('review')
export class ReviewPageController {
  // Read once: the file is part of the sample, not user content.
  private readonly html = readFileSync(sampleFile('review/review.html'), 'utf8');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  // The page only talks to this origin; say so to the browser.
  @Header(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
  )
  page(): string {
    return this.html;
  }
}
