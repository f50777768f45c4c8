// A web machine: the shared base plus the web role, pinned to the spec the fleet boots with.
import { system } from "nexus";
import { base } from "./base.ts";
import { web } from "./web.ts";

export default system({ spec: "3.4.0" }, [base("eu-west"), web()]);
