// Builds the widget into kefu/channels/widget_static/ (committed, so running Kefu needs no
// Node.js): `npm ci && npm run build` here, or `make widget` at the top of the project.
// The bundle's first line names the sha256 of the sources it was built from; a test checks it
// against widget/src, so a change that was not rebuilt fails the suite.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "kefu", "channels", "widget_static");

function files(directory) {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

export function sourceHash() {
  const hash = createHash("sha256");
  const sources = [...files(join(here, "src")), join(here, "package-lock.json")];
  for (const path of sources.map((p) => relative(here, p).split("\\").join("/")).sort()) {
    hash.update(`${path}\0`);
    hash.update(readFileSync(join(here, path)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

// The notice lists exactly the packages esbuild put into the bundle, with their licences.
function thirdParty(metafile) {
  const names = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) names.add(match[1]);
  }
  const lines = ["# Third-party code in kefu-widget.js", "", "Bundled from npm (exact versions in widget/package-lock.json):", ""];
  for (const name of [...names].sort()) {
    const meta = JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8"));
    lines.push(`- ${name} ${meta.version}, licence ${meta.license}`);
  }
  for (const name of [...names].sort()) {
    for (const file of ["LICENSE", "LICENSE.md", "license"]) {
      try {
        const text = readFileSync(join(here, "node_modules", name, file), "utf8");
        lines.push("", `## ${name}`, "", "```", text.trim(), "```");
        break;
      } catch {
        // the next spelling of the licence file
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

const digest = sourceHash();
const version = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).version;
const socketIo = JSON.parse(readFileSync(join(here, "node_modules", "socket.io-client", "package.json"), "utf8")).version;
const banner = `/* Kefu widget ${version} | sources sha256:${digest} | includes socket.io-client ${socketIo} (MIT, see THIRD-PARTY.md) */`;

const result = await build({
  metafile: true,
  entryPoints: [join(here, "src", "index.js")],
  bundle: true,
  format: "iife",
  globalName: "KefuWidget",
  target: ["es2019"],
  minify: true,
  legalComments: "none",
  banner: { js: banner },
  outfile: join(out, "kefu-widget.js"),
});
writeFileSync(join(out, "kefu-widget.css"), `${banner}\n${readFileSync(join(here, "src", "widget.css"), "utf8")}`);
writeFileSync(join(out, "THIRD-PARTY.md"), thirdParty(result.metafile));
console.log(`built kefu-widget.js and kefu-widget.css from sources sha256:${digest}`);
