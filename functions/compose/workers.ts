/**
 * The browserless functions — sweeper, poll worker, dead-letter consumer — for callers that wire
 * all three (the local runner). Each Lambda entry imports its own module, so its bundle holds only
 * its function's parts.
 */
export { composeDeadLetter, deadLetterFromEnvironment } from "./dead-letter.ts";
export { composePoll, pollFromEnvironment } from "./poll.ts";
export { composeSweeper, sweeperFromEnvironment } from "./sweeper.ts";
