import { Aws, CfnRule, Fn, Stack, Token } from "aws-cdk-lib";
import { DomainName, EndpointType, SecurityPolicy } from "aws-cdk-lib/aws-apigateway";
import { Certificate, CertificateValidation, type ICertificate } from "aws-cdk-lib/aws-certificatemanager";
import { ARecord, HostedZone, type IHostedZone, RecordTarget } from "aws-cdk-lib/aws-route53";
import { ApiGatewayDomain } from "aws-cdk-lib/aws-route53-targets";
import { Construct } from "constructs";

/** A DNS name of two labels or more, lower case, no trailing dot. */
const HOSTNAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** A regional ACM certificate ARN, literal (a token cannot be checked here). */
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;

/** Props of {@link PublicDomain}. */
export interface PublicDomainProps {
  /** The host readers and Memento URIs use, e.g. `archive.example.org`. */
  readonly domainName: string;
  /**
   * The Route 53 public hosted zone of `domainName` (ids only: no lookup at synth). With it a
   * DNS-validated certificate is issued (unless `certificateArn` is given) and an alias record
   * points the name at the API.
   * @default - no zone: give `certificateArn`, and point the name at the `RegionalDomainName`
   *   output with your DNS provider
   */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
  /**
   * An ACM certificate for `domainName` in the stack's region.
   * @default - issued here, validated through `hostedZone`
   */
  readonly certificateArn?: string;
  /**
   * Serve the name through the service stack's CloudFront distribution (its edge cache) instead of
   * an API Gateway custom domain: no API Gateway domain or record is made here, the service stack
   * points the name at its distribution. CloudFront reads certificates in us-east-1 only: give a
   * `certificateArn` there, or deploy this stack in us-east-1 to have one issued (a stack rule
   * refuses any other region).
   * @default false
   */
  readonly edgeCache?: boolean;
}

/**
 * The archive's permanent public address: an API Gateway regional custom domain (TLS 1.2+) with
 * its certificate and DNS record. It lives in the long-lived storage stack because Memento URIs,
 * feed ids and links in the wild name it: replacing the service stack, and with it the REST API
 * and its `execute-api` host, only remaps this domain to the new API (the service stack owns the
 * base path mapping), and every URI stays valid.
 */
export class PublicDomain extends Construct {
  /** The API Gateway custom domain the service stack maps its REST API to; none with `edgeCache`. */
  public readonly domain?: DomainName;
  /** The host, e.g. `archive.example.org`. */
  public readonly domainName: string;
  /** The name is CloudFront's (the service stack's edge cache), not API Gateway's. */
  public readonly edgeCache: boolean;
  /** `https://<domainName>`: every absolute link the API writes starts with it. */
  public readonly baseUrl: string;
  public readonly certificate: ICertificate;
  public readonly zone?: IHostedZone;

  constructor(scope: Construct, id: string, props: PublicDomainProps) {
    super(scope, id);
    const { domainName, hostedZone, certificateArn } = props;
    this.domainName = domainName;
    this.edgeCache = props.edgeCache ?? false;
    if (!HOSTNAME.test(domainName)) {
      throw new Error(
        `PublicDomain: domainName must be a lower-case DNS name like archive.example.org, got ${JSON.stringify(domainName)}.`,
      );
    }
    if (!hostedZone && certificateArn === undefined) {
      throw new Error(
        "PublicDomain: give hostedZone (to issue a certificate and a DNS record) or certificateArn.",
      );
    }
    if (hostedZone && domainName !== hostedZone.zoneName && !domainName.endsWith(`.${hostedZone.zoneName}`)) {
      throw new Error(`PublicDomain: ${domainName} is not in the hosted zone ${hostedZone.zoneName}.`);
    }
    if (certificateArn !== undefined && !CERTIFICATE_ARN.test(certificateArn)) {
      throw new Error(
        `PublicDomain: certificateArn must be an ACM certificate ARN, got ${JSON.stringify(certificateArn)}.`,
      );
    }
    if (this.edgeCache && certificateArn !== undefined && !certificateArn.includes(":acm:us-east-1:")) {
      throw new Error(
        `PublicDomain: with edgeCache the certificate must be in us-east-1 (CloudFront's region), got ${certificateArn}.`,
      );
    }
    this.zone = hostedZone
      ? HostedZone.fromHostedZoneAttributes(this, "Zone", {
          hostedZoneId: hostedZone.hostedZoneId,
          zoneName: hostedZone.zoneName,
        })
      : undefined;
    this.certificate =
      certificateArn !== undefined
        ? Certificate.fromCertificateArn(this, "Certificate", certificateArn)
        : new Certificate(this, "Certificate", {
            domainName,
            validation: CertificateValidation.fromDns(this.zone),
          });
    this.baseUrl = `https://${domainName}`;
    if (this.edgeCache) {
      if (certificateArn === undefined) this.requireUsEast1();
      return;
    }
    this.domain = new DomainName(this, "Domain", {
      domainName,
      certificate: this.certificate,
      endpointType: EndpointType.REGIONAL,
      securityPolicy: SecurityPolicy.TLS_1_2,
    });
    if (this.zone) {
      new ARecord(this, "Alias", {
        zone: this.zone,
        recordName: domainName,
        target: RecordTarget.fromAlias(new ApiGatewayDomain(this.domain)),
      });
    }
  }

  /** A certificate issued here serves CloudFront only from us-east-1: refuse any other region. */
  private requireUsEast1(): void {
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region)) {
      if (region !== "us-east-1") {
        throw new Error(
          `PublicDomain: with edgeCache and no certificateArn the stack must be in us-east-1 to issue CloudFront's certificate, not ${region}; give a us-east-1 certificateArn.`,
        );
      }
      return;
    }
    new CfnRule(this, "CertificateInUsEast1", {
      assertions: [
        {
          assert: Fn.conditionEquals(Aws.REGION, "us-east-1"),
          assertDescription:
            "CloudFront reads certificates in us-east-1 only: deploy this stack there, or give publicDomain.certificateArn of a us-east-1 certificate.",
        },
      ],
    });
  }
}
