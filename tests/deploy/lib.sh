# Shared by the deployment tests' shell scripts (sourced). DEPLOY_DIR must be set: the
# tests' folder in the build directory (build/deploy), which holds what is cached between
# runs (the base image's root file system, buildah's storage with its layers).

# buildah with the tests' own storage, so that nothing outside the build directory changes.
buildah_() {
  buildah --root "$DEPLOY_DIR/containers/storage" --runroot "$DEPLOY_DIR/containers/run" "$@"
}

say() { printf 'deploy: %s\n' "$*" >&2; }
die() { printf 'deploy: %s\n' "$*" >&2; exit 1; }

# The Debian entries of this machine's apt sources as one-line `deb URI SUITE COMPONENTS`
# lines, bookworm suites only (bookworm, -updates, -security, -backports), read from
# /etc/apt/sources.list and sources.list.d (both formats). Third-party sources are left out:
# a fresh image has neither their keys nor a use for them.
host_debian_sources() {
  local f
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f "$f" ]] || continue
      # deb [options] URI SUITE COMPONENT...
      sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 4 {
        line = $2 " " $3; for (i = 4; i <= NF; i++) line = line " " $i; print line }'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f "$f" ]] || continue
      awk '
        function flush(  n, m, i, j, U, S) {
          if (uris != "" && types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
            n = split(uris, U, " "); m = split(suites, S, " ")
            for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print U[i] " " S[j] " " comps
          }
          types = uris = suites = comps = enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[A-Za-z-]+:/ {
          key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
          if (key == "types") types = $0; else if (key == "uris") uris = $0
          else if (key == "suites") suites = $0; else if (key == "components") comps = $0
          else if (key == "enabled") enabled = $0
        }
        END { flush() }' "$f"
    done
  } | awk '$2 ~ /^bookworm(-updates|-security|-backports)?$/ { print "deb " $0 }' | sort -u
}

# The URI of this machine's Debian bookworm mirror (for debootstrap).
host_debian_mirror() {
  host_debian_sources | awk '$3 == "bookworm" { print $2; exit }'
}
