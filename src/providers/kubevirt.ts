// KubeVirt: cloudInitNoCloud (a cidata drive, /user-data) or cloudInitConfigDrive (config-2,
// /openstack/latest/user_data), whichever answers first; waits until one appears. No network.
import { raceSources } from "./config_drive.ts";
import { driveSource, NOCLOUD_USER_DATA, OPENSTACK_USER_DATA } from "./drive_platforms.ts";
import { found, none, type Provider } from "./types.ts";

/** KubeVirt: cloudInitNoCloud (cidata) or cloudInitConfigDrive (config-2), whichever appears first. */
export const kubevirtProvider: Provider = {
  name: "kubevirt",
  async fetch(ctx) {
    const won = await raceSources(ctx, [driveSource(ctx, "cidata", NOCLOUD_USER_DATA), driveSource(ctx, "config-2", OPENSTACK_USER_DATA)]);
    if (!won) return none("no config drive could be read");
    return won.data ? found(won.data, `kubevirt ${won.name}`) : none(`${won.name} has no user data`);
  },
};
