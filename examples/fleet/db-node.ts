// A database machine: the shared base plus the database role.
import { system } from "nexus";
import { base } from "./base.ts";
import { db } from "./db.ts";

export default system({ spec: "3.4.0" }, [base("eu-west"), db()]);
