// The platforms whose config is one metadata request away, each as its provider documents it:
// where the user data is, what a 404 means, the headers and retries it needs. Every one needs
// the network, so fetch-offline hands over to fetch (the offline fetcher refuses the request).
import { decodeBase64 } from "./decode.ts";
import { userDataProvider } from "./metadata_http.ts";
import { packetStatus } from "./packet_status.ts";

/** Alibaba Cloud: 404 is no config. */
export const aliyunProvider = userDataProvider({ name: "aliyun", endpoint: "aliyun", path: "/latest/user-data", notFound: "none" });

/** DigitalOcean: the droplet's user data; a 404 is an error, as Ignition has it. */
export const digitaloceanProvider = userDataProvider({ name: "digitalocean", endpoint: "digitalocean", path: "/metadata/v1/user-data", notFound: "error" });

/** Exoscale. */
export const exoscaleProvider = userDataProvider({ name: "exoscale", endpoint: "exoscale", path: "/1.0/user-data", notFound: "none" });

/** Hetzner Cloud. */
export const hetznerProvider = userDataProvider({ name: "hetzner", endpoint: "hetzner", path: "/hetzner/v1/userdata", notFound: "none" });

/** UpCloud (its metadata service must be enabled on custom images). */
export const upcloudProvider = userDataProvider({ name: "upcloud", endpoint: "upcloud", path: "/metadata/v1/user_data", notFound: "none" });

/** Vultr. */
export const vultrProvider = userDataProvider({ name: "vultr", endpoint: "vultr", path: "/user-data/user-data", notFound: "none" });

/** Scaleway answers user data only to requests from a source port below 1024 (any of 1–1022). */
export const scalewayProvider = userDataProvider({
  name: "scaleway",
  endpoint: "scaleway",
  path: "/user_data/cloud-init",
  notFound: "none",
  route: { localPort: () => 1 + Math.floor(Math.random() * 1022) },
});

/** Oracle Cloud: IMDSv2 wants "Authorization: Bearer Oracle", rate-limits with 429 (retried), and serves base64. */
export const oraclecloudProvider = userDataProvider({
  name: "oraclecloud",
  endpoint: "oraclecloud",
  path: "/opc/v2/instance/metadata/user_data",
  notFound: "none",
  headers: [["Authorization", "Bearer Oracle"]],
  retryStatuses: [429],
  decode: (body, source) => decodeBase64(body, "oraclecloud", source),
});

/** Equinix Metal (packet): Accept any type (Ignition's gets 406); a 404 is an error; stage outcomes go to the instance timeline. */
export const packetProvider = userDataProvider({
  name: "packet",
  endpoint: "packet",
  path: "/userdata",
  notFound: "error",
  headers: [["Accept", "*/*"]],
  status: packetStatus,
});
