/**
 * CDK entry point (`cdk.json`: `node infra/app.ts`).
 *
 *   npx cdk synth                       # bundles the functions with the local esbuild
 *   npx cdk synth -c bundling=false     # placeholders instead of bundles: fast, not deployable
 *   npx cdk deploy --all -c stage=dev   # stacks PalimpsestStorage-dev and PalimpsestService-dev
 *   npx cdk deploy --all -c alarmEmail=ops@example.org   # alarms email this address (comma-separate several)
 *   npx cdk deploy --all -c edgeCache=true   # CloudFront in front: mementos and feeds cached at the edge
 *   npx cdk deploy --all -c hostMinGapMs=2000 -c hostLimits=news.example=5s   # per-host politeness
 */
import { App } from "aws-cdk-lib";
import { addPalimpsestStacks, readAppOptions } from "./palimpsest-app.ts";

const app = new App();
addPalimpsestStacks(app, readAppOptions(app));
app.synth();
