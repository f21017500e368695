# shellcheck shell=bash
# shellcheck disable=SC2034  # KF_* globals are read by the scripts that source this
# Shared by scripts/local-kafka and scripts/kafka-tool (sourced, not executed).
#
# Finds a Java 17+ runtime and resolves Apache Kafka's jars with Maven into
# .cache/kafka/<version>/lib (plus an index of the classes they hold).
#
# Usage: source _kafka/common.sh PROGRAM-NAME (the name used in messages).

KF_PROG=${1:-kafka}

KF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KF_ROOT=$(cd "$KF_DIR/../.." && pwd)
KF_CACHE="$KF_ROOT/.cache/kafka"
KF_HELPER="$KF_DIR/helper.py"
KF_MAVEN_REPO_URL=${KF_MAVEN_REPO_URL:-https://repo.maven.apache.org/maven2}
# How many of the newest 4.x releases to try before giving up.
KF_RESOLVE_TRIES=${KF_RESOLVE_TRIES:-5}

# python3 for helper.py (stdlib only). Prefer the system one: version-manager
# shims (pyenv) cost a few hundred ms per call.
if [[ -n ${KF_PYTHON:-} ]]; then
  :
elif [[ -x /usr/bin/python3 ]]; then
  KF_PYTHON=/usr/bin/python3
else
  KF_PYTHON=python3
fi

kf_helper() { "$KF_PYTHON" "$KF_HELPER" "$@"; }

kf_say() { printf '%s: %s\n' "${KF_PROG:-kafka}" "$*" >&2; }
kf_die() { kf_say "$*"; exit 1; }

# ---------------------------------------------------------------- java

# Sets KF_JAVA to a java binary of version 17 or newer.
kf_find_java() {
  local cand major
  local -a cands=()
  [[ -n ${JAVA_HOME:-} ]] && cands+=("$JAVA_HOME/bin/java")
  cand=$(command -v java 2>/dev/null) && cands+=("$cand")
  for cand in /usr/lib/jvm/*/bin/java; do cands+=("$cand"); done
  local out
  for cand in "${cands[@]}"; do
    [[ -x $cand ]] || continue
    out=$("$cand" -version 2>&1) || continue
    major=$(sed -nE '1s/.*version "([0-9]+)[."].*/\1/p' <<<"$out")
    if [[ $major =~ ^[0-9]+$ ]] && ((major >= 17)); then
      KF_JAVA=$cand
      # Identifies this exact JVM build, for its class-data-sharing archive.
      KF_JAVA_ID=$(printf '%s\n%s\n' "$(readlink -f "$cand")" "$out" | cksum | cut -d' ' -f1)
      return 0
    fi
  done
  kf_die "no Java 17+ runtime found (set JAVA_HOME or put java on PATH)."
}

# ---------------------------------------------------------------- maven

kf_is_cached() { [[ -f "$KF_CACHE/$1/.complete" ]]; }

kf_newest_cached() {
  local d best=""
  for d in "$KF_CACHE"/4.*/; do
    d=${d%/}
    [[ -f "$d/.complete" ]] || continue
    d=${d##*/}
    best=$(printf '%s\n%s\n' "$best" "$d" | sed '/^$/d' | sort -V | tail -n 1)
  done
  [[ -n $best ]] && printf '%s\n' "$best"
}

# kf_mvn LOG ARGS... : quiet Maven run; output kept in LOG.
kf_mvn() {
  local log=$1
  shift
  mvn -q -B -U -Dstyle.color=never "$@" >"$log" 2>&1
}

kf_show_maven_errors() {
  local log=$1 errors
  errors=$(sed -e 's/\x1b\[[0-9;]*m//g' "$log" | grep '^\[ERROR\]' |
    grep -vE '^\[ERROR\] *$|full stack trace|Re-run Maven|For more information|^\[ERROR\] \[Help [0-9]+\]' || true)
  if [[ -n $errors ]]; then
    head -n 12 <<<"$errors" >&2
  else
    sed -e 's/\x1b\[[0-9;]*m//g' "$log" | tail -n 20 >&2
  fi
}

# kf_fetch VERSION : resolve Kafka VERSION into $KF_CACHE/VERSION; 0 on success.
kf_fetch() {
  local v=$1 tmp lib log4j slf4j binding fallback_log4j=2.24.3
  command -v mvn >/dev/null || kf_die "Maven (mvn) is not installed and Kafka $v is not cached."
  kf_say "resolving Apache Kafka $v with Maven (first time only) ..."
  tmp=$(mktemp -d "$KF_CACHE/.resolve-$v.XXXXXX")
  lib="$tmp/lib"
  sed "s/@KAFKA_VERSION@/$v/g" "$KF_DIR/pom.xml.in" >"$tmp/pom.xml"
  if ! kf_mvn "$tmp/maven.log" -f "$tmp/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$lib"; then
    kf_say "Maven could not resolve org.apache.kafka:kafka_2.13/kafka-tools:$v:"
    kf_show_maven_errors "$tmp/maven.log"
    rm -rf "$tmp"
    return 1
  fi
  if [[ ! -f "$lib/kafka_2.13-$v.jar" || ! -f "$lib/kafka-tools-$v.jar" ]]; then
    kf_say "Maven finished but the Kafka $v jars are missing from $lib."
    rm -rf "$tmp"
    return 1
  fi
  # Kafka's poms carry log4j2 but not the SLF4J binding its distribution ships;
  # without one the broker would log nothing. Add the binding that matches the
  # log4j and SLF4J versions Kafka resolved to.
  log4j=$(find "$lib" -name 'log4j-api-*.jar' -printf '%f\n' | sed -E 's/^log4j-api-(.*)\.jar$/\1/' | head -n 1)
  slf4j=$(find "$lib" -name 'slf4j-api-*.jar' -printf '%f\n' | sed -E 's/^slf4j-api-(.*)\.jar$/\1/' | head -n 1)
  binding='log4j-slf4j-impl'
  [[ $slf4j == 2.* ]] && binding='log4j-slf4j2-impl'
  local -a extra=()
  if [[ -z $log4j ]]; then
    log4j=$fallback_log4j
    extra+=(log4j-api log4j-core)
  fi
  extra+=("$binding")
  {
    printf '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>\n'
    printf '<groupId>flowscope.local</groupId><artifactId>local-kafka-logging</artifactId><version>%s</version><packaging>pom</packaging><dependencies>\n' "$v"
    local a
    for a in "${extra[@]}"; do
      printf '<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n' "$a" "$log4j"
    done
    printf '</dependencies></project>\n'
  } >"$tmp/logging-pom.xml"
  if ! kf_mvn "$tmp/maven-logging.log" -f "$tmp/logging-pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DexcludeTransitive=true -DoutputDirectory="$lib"; then
    kf_say "Maven could not resolve the log4j2 SLF4J binding ($binding $log4j):"
    kf_show_maven_errors "$tmp/maven-logging.log"
    rm -rf "$tmp"
    return 1
  fi
  # Index of top-level classes in Kafka's own jars, for kafka-tool's lookups.
  local j
  for j in "$lib"/kafka*.jar; do
    unzip -Z1 "$j"
  done | grep '\.class$' | grep -v '\$' | sed -e 's/\.class$//' -e 's|/|.|g' | sort -u >"$tmp/classes.txt"
  printf '%s\n' "$v" >"$tmp/.complete"
  rm -rf "${KF_CACHE:?}/$v"
  mv "$tmp" "$KF_CACHE/$v"
}

# Sets KF_VERSION, KF_HOME and KF_CLASSPATH. Version: $KAFKA_VERSION, else the
# version cached by an earlier run (.cache/kafka/version), else the newest 4.x
# release on Maven Central that resolves. KAFKA_REFRESH=1 re-checks Maven Central.
kf_resolve() {
  local v="" lockfd cand tried=0 versions
  mkdir -p "$KF_CACHE"
  if [[ -n ${KAFKA_VERSION:-} ]]; then
    v=$KAFKA_VERSION
    [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+([.-][A-Za-z0-9.-]+)?$ ]] || kf_die "KAFKA_VERSION '$v' is not a version number."
  elif [[ -z ${KAFKA_REFRESH:-} && -f "$KF_CACHE/version" ]]; then
    v=$(<"$KF_CACHE/version")
  fi
  if [[ -n $v ]] && kf_is_cached "$v"; then
    kf_set_home "$v"
    return 0
  fi

  exec {lockfd}>"$KF_CACHE/.lock"
  flock "$lockfd"
  if [[ -n ${KAFKA_VERSION:-} ]]; then
    kf_is_cached "$v" || kf_fetch "$v" || {
      exec {lockfd}>&-
      kf_die "could not resolve Apache Kafka $v with Maven (see the errors above)."
    }
  else
    v=""
    if ! versions=$(kf_helper versions "$KF_MAVEN_REPO_URL/org/apache/kafka/kafka_2.13/maven-metadata.xml"); then
      v=$(kf_newest_cached) || {
        exec {lockfd}>&-
        kf_die "could not read the list of Kafka releases from Maven Central and no Kafka is cached."
      }
      kf_say "could not reach Maven Central; using cached Kafka $v."
    else
      for cand in $versions; do
        if ((tried >= KF_RESOLVE_TRIES)); then break; fi
        tried=$((tried + 1))
        if kf_is_cached "$cand" || kf_fetch "$cand"; then
          v=$cand
          break
        fi
        kf_say "Kafka $cand did not resolve; trying an older 4.x release."
      done
      [[ -n $v ]] || {
        exec {lockfd}>&-
        kf_die "none of the newest $tried Kafka 4.x releases could be resolved with Maven."
      }
    fi
    printf '%s\n' "$v" >"$KF_CACHE/version"
  fi
  exec {lockfd}>&-
  kf_set_home "$v"
}

kf_set_home() {
  KF_VERSION=$1
  KF_HOME="$KF_CACHE/$1"
  KF_CLASSPATH="$KF_HOME/lib/*"
}

# kf_has_class NAME : is the class in the resolved Kafka jars?
kf_has_class() { grep -Fxq "$1" "$KF_HOME/classes.txt"; }

# ---------------------------------------------------------------- start-up
#
# Class-data sharing (AppCDS): the first broker that local-kafka starts for a
# Kafka version and JVM dumps the classes it loaded into an archive when it
# exits (on `local-kafka down`); later brokers, the storage formatter and
# kafka-tool map that archive and start roughly twice as fast. A stale or
# foreign archive is simply ignored by the JVM. FLOWSCOPE_KAFKA_CDS=0 disables.

kf_cds_enabled() { [[ ${FLOWSCOPE_KAFKA_CDS:-1} != 0 ]]; }

# Path of the archive for the resolved Kafka version and the found JVM.
kf_cds_archive() { printf '%s\n' "$KF_HOME/cds/java-$KF_JAVA_ID.jsa"; }

# JVM logging: warnings to stderr (never stdout), CDS chatter off.
KF_JVM_LOG_OPTS=(-Xlog:disable '-Xlog:all=warning,cds*=off:stderr')

# Sets KF_CDS_OPTS to use the archive, if there is one.
kf_cds_use_opts() {
  KF_CDS_OPTS=(-Xshare:auto)
  local archive
  archive=$(kf_cds_archive)
  if kf_cds_enabled && [[ -f $archive ]]; then
    KF_CDS_OPTS+=("-XX:SharedArchiveFile=$archive")
  fi
}

# JVM options for short-lived tools (storage formatter, kafka-tool).
kf_tool_jvm_opts() {
  kf_cds_use_opts
  KF_TOOL_OPTS=(
    -XX:+UseSerialGC -XX:-UsePerfData "${KF_CDS_OPTS[@]}" "${KF_JVM_LOG_OPTS[@]}"
    -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$KF_DIR/log4j2-tools.xml"
    "-Dflowscope.kafka.tool.level=${KAFKA_TOOL_LOG_LEVEL:-WARN}"
  )
}
