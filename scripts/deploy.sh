#!/usr/bin/env bash
# Deploy adminapp to Cloud Run behind Firebase Hosting (docs/deploy.md).
#
# In order: enable the APIs; create the service account the app runs as, with
# only the roles it needs; optionally a Serverless VPC Access connector and a
# Memorystore (Redis) instance, for more than one instance; put SECRET_KEY and
# MFA_ENCRYPTION_KEY (and the Redis URL) in Secret Manager; build the image
# with Cloud Build; deploy the service with the production settings; create
# the Firestore database if there is none and deploy its rules, indexes and
# TTL policies; deploy Hosting. Running it again updates what is there: it
# creates only what is missing and never replaces a secret that exists.
#
# Secrets never appear on a command line (where `ps` shows them to every
# user): generated or read values go to gcloud through a pipe.
#
# Usage: scripts/deploy.sh [options]     (scripts/deploy.sh --help)
# Reference for the gcloud flags used: https://cloud.google.com/sdk/gcloud/reference
# (run deploy, secrets, iam, firestore, redis, compute networks vpc-access).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<'EOF'
Usage: scripts/deploy.sh [options]   (make deploy runs it with the environment's values)

Required (flag or environment variable):
  --project ID          FIREBASE_PROJECT_ID   the Firebase project (not a demo- project)
  --public-url URL      PUBLIC_URL            where staff open the app: https://<project>.web.app
                                              or your Hosting custom domain (https only)
  --web-api-key KEY     FIREBASE_WEB_API_KEY  the web app's API key (Project settings > General)

Optional:
  --region REGION       CLOUD_RUN_REGION      default: firebase.json's run.region (asia-northeast3)
  --service NAME        CLOUD_RUN_SERVICE     default: firebase.json's run.serviceId (adminapp)
                        Both must match firebase.json, which Hosting's rewrite follows.
  --auth-domain DOMAIN  FIREBASE_AUTH_DOMAIN  default: <project>.firebaseapp.com
  --settings FILE       DEPLOY_SETTINGS       more settings, KEY=VALUE per line (no secrets)
  --max-instances N     MAX_INSTANCES         default 1; more needs Redis
  --redis-instance NAME REDIS_INSTANCE        create (or use) a Memorystore Redis instance
  --vpc-connector NAME  VPC_CONNECTOR         create (or use) a Serverless VPC Access connector;
                                              required with --redis-instance
  --vpc-connector-range CIDR                  the connector's /28 range (default 10.8.0.0/28)
  A Redis you run yourself: put its URL in the environment as REDIS_URL (never
  a flag: a URL may hold a password), with --vpc-connector if it is private.
EOF
}

fail() {
  echo "deploy: $*" >&2
  exit 2
}

# --- Inputs --------------------------------------------------------------------

project=${FIREBASE_PROJECT_ID:-}
public_url=${PUBLIC_URL:-}
web_api_key=${FIREBASE_WEB_API_KEY:-}
region=${CLOUD_RUN_REGION:-}
service=${CLOUD_RUN_SERVICE:-}
auth_domain=${FIREBASE_AUTH_DOMAIN:-}
settings_file=${DEPLOY_SETTINGS:-}
max_instances=${MAX_INSTANCES:-}
redis_instance=${REDIS_INSTANCE:-}
redis_url=${REDIS_URL:-}
vpc_connector=${VPC_CONNECTOR:-}
vpc_connector_range=10.8.0.0/28

while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --project) project=${2-} ;;
    --public-url) public_url=${2-} ;;
    --web-api-key) web_api_key=${2-} ;;
    --region) region=${2-} ;;
    --service) service=${2-} ;;
    --auth-domain) auth_domain=${2-} ;;
    --settings) settings_file=${2-} ;;
    --max-instances) max_instances=${2-} ;;
    --redis-instance) redis_instance=${2-} ;;
    --vpc-connector) vpc_connector=${2-} ;;
    --vpc-connector-range) vpc_connector_range=${2-} ;;
    --redis-url) fail "--redis-url is not taken: a Redis URL may hold a password, and a command line is visible to every user. Set REDIS_URL in the environment." ;;
    *) usage >&2; fail "unknown option: $1" ;;
  esac
  (($# >= 2)) || fail "$1 needs a value"
  shift 2
done

# Hosting sends /admin to the Cloud Run service firebase.json names: read it
# there, so that the two cannot disagree.
config() { python3 "$root/scripts/deploy_config.py" "$@"; }
hosting_run=$(config hosting-run "$root/firebase.json")
read -r hosting_service hosting_region <<<"$hosting_run"
service=${service:-$hosting_service}
region=${region:-$hosting_region}
auth_domain=${auth_domain:-$project.firebaseapp.com}
max_instances=${max_instances:-1}

# Every input is checked before the first command runs.
[[ -n $project ]] || fail "no project: pass --project or set FIREBASE_PROJECT_ID."
[[ -n $public_url ]] || fail "no public URL: pass --public-url or set PUBLIC_URL (https://<project>.web.app, or your Hosting custom domain)."
[[ -n $web_api_key ]] || fail "no web API key: pass --web-api-key or set FIREBASE_WEB_API_KEY (Firebase console > Project settings > General > Web API key)."
[[ $project != demo-* ]] || fail "FIREBASE_PROJECT_ID=$project is a demo- project, which exists only on the emulators."
[[ $project =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || fail "FIREBASE_PROJECT_ID=$project is not a project id."
[[ $public_url =~ ^https://[a-z0-9.-]+$ ]] || fail "PUBLIC_URL=$public_url must be https://host (lower case, no path): the site Hosting serves."
[[ $web_api_key =~ ^[A-Za-z0-9_-]+$ ]] || fail "FIREBASE_WEB_API_KEY is not an API key."
[[ $auth_domain =~ ^[a-z0-9.-]+$ ]] || fail "FIREBASE_AUTH_DOMAIN=$auth_domain must be a host name."
[[ $service == "$hosting_service" && $region == "$hosting_region" ]] ||
  fail "firebase.json rewrites /admin to service $hosting_service in $hosting_region, not $service in $region: change both of firebase.json's hosting.rewrites, or leave --service and --region out."
# The service account's id is "<service>-run", at most 30 characters.
[[ $service =~ ^[a-z][a-z0-9-]{1,24}[a-z0-9]$ ]] || fail "service name $service: 3 to 26 lower-case letters, digits and hyphens."
[[ $region =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || fail "$region is not a Cloud Run region (such as asia-northeast3)."
[[ -z $settings_file || -r $settings_file ]] || fail "cannot read the settings file $settings_file."
[[ -z $vpc_connector || $vpc_connector =~ ^[a-z][a-z0-9-]{0,23}[a-z0-9]$ ]] || fail "VPC connector name $vpc_connector: up to 25 lower-case letters, digits and hyphens."
[[ $vpc_connector_range =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/28$ ]] || fail "--vpc-connector-range must be a /28 range such as 10.8.0.0/28."
[[ -z $redis_instance || $redis_instance =~ ^[a-z][a-z0-9-]{0,38}[a-z0-9]$ ]] || fail "Memorystore instance name $redis_instance: up to 40 lower-case letters, digits and hyphens."
[[ -z $redis_instance || -n $vpc_connector ]] ||
  fail "--redis-instance needs --vpc-connector: Memorystore has only a private address, which Cloud Run reaches through a connector."
[[ -z $redis_instance || -z $redis_url ]] || fail "give either --redis-instance or REDIS_URL, not both."
[[ -z $redis_url || $redis_url =~ ^rediss?://[^[:space:]]+$ ]] || fail "REDIS_URL must be a redis:// or rediss:// URL."
shared_storage=
if [[ -n $redis_instance || -n $redis_url ]]; then shared_storage=yes; fi
[[ $max_instances =~ ^[1-9][0-9]{0,2}$ ]] || fail "--max-instances must be a whole number from 1 to 999."
((max_instances == 1)) || [[ -n $shared_storage ]] ||
  fail "--max-instances=$max_instances needs Redis (--redis-instance or REDIS_URL): without it each instance counts rate limits on its own and cannot tell the others that a session ended."
for tool in gcloud firebase python3 git; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (docs/deploy.md, \"What you need\")."
done

# Without Redis: one instance with one worker process, whose memory is the
# one place rate limits are counted (the app refuses memory:// with more than
# one worker in production). With Redis: two workers per instance, and up to
# --max-instances instances sharing the counts and the invalidation channel.
workers=1
if [[ -n $shared_storage ]]; then workers=2; fi

# The service's plain settings (the secrets are mounted from Secret Manager
# below), for --env-vars-file: a file, so that a value may hold any
# character. The team's own settings file comes first; these win.
env_file=$(mktemp)
trap 'rm -f "$env_file"' EXIT
# COOKIE_MODE=hosting: Hosting passes only the __session cookie to Cloud Run,
# so everything the app keeps in cookies travels in that one.
# CLOUD_RUN_CPU=always: the service is deployed with --no-cpu-throttling
# below, so emails may go out after the response (docs/deploy.md, "CPU
# allocation").
# TRUSTED_PROXY_COUNT=2: two proxies append to X-Forwarded-For, Firebase
# Hosting (the client's address) and Cloud Run's front end (Hosting's); see
# docs/deploy.md, "Client addresses".
config env-file "$env_file" "$settings_file" \
  ADMINAPP_ENV=production \
  FIREBASE_PROJECT_ID="$project" \
  FIREBASE_WEB_API_KEY="$web_api_key" \
  FIREBASE_AUTH_DOMAIN="$auth_domain" \
  PUBLIC_URL="$public_url" \
  COOKIE_MODE=hosting \
  CLOUD_RUN_CPU=always \
  TRUSTED_PROXY_COUNT=2 \
  WEB_CONCURRENCY="$workers"
ttl_policies=$(config ttls "$root/firestore.indexes.json")

# Names of what this creates, derived from the service's name.
service_account=$service-run@$project.iam.gserviceaccount.com
secret_key_secret=$service-secret-key
mfa_key_secret=$service-mfa-encryption-key
audit_key_secret=$service-audit-chain-key
redis_url_secret=$service-redis-url
version=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unversioned)
image=$region-docker.pkg.dev/$project/$service/$service:$(date -u +%Y%m%d-%H%M%S)-$version

gcloud_p() { gcloud "$@" --project="$project" --quiet; }
exists() { gcloud_p "$@" >/dev/null 2>&1; }
step() { printf '\n==> %s\n' "$*"; }
# IAM is eventually consistent: a service account made a moment ago may not
# be found by the next call yet. Retry a few times, waiting longer each time.
retry() {
  local attempt
  for attempt in 1 2 3 4; do
    "$@" && return 0
    ((attempt < 4)) || return 1
    sleep $((attempt * 5))
  done
}

# --- 1. APIs -------------------------------------------------------------------

step "Enabling the APIs"
apis=(
  run.googleapis.com               # Cloud Run
  cloudbuild.googleapis.com        # builds the image from the Dockerfile
  artifactregistry.googleapis.com  # keeps the image
  firestore.googleapis.com         # the app's data
  firebaserules.googleapis.com     # firebase deploy --only firestore (rules)
  identitytoolkit.googleapis.com   # Firebase Authentication
  secretmanager.googleapis.com     # SECRET_KEY, MFA_ENCRYPTION_KEY, the Redis URL
  firebasehosting.googleapis.com   # Hosting
  iam.googleapis.com               # the service account
)
if [[ -n $vpc_connector ]]; then apis+=(vpcaccess.googleapis.com); fi
if [[ -n $redis_instance ]]; then apis+=(redis.googleapis.com); fi
gcloud_p services enable "${apis[@]}"

# --- 2. The service account ----------------------------------------------------

step "Service account $service_account"
if ! exists iam service-accounts describe "$service_account"; then
  gcloud_p iam service-accounts create "$service-run" --display-name="adminapp ($service) on Cloud Run"
fi
# Least privilege, and why each role:
# - roles/datastore.user: read and write Firestore documents (sessions,
#   admins, factors, the audit trail); no database, index or rules changes.
# - roles/firebaseauth.admin: the Admin SDK's user calls (look up, create,
#   disable and update accounts, revoke refresh tokens, reset links).
# - roles/secretmanager.secretAccessor: granted below on the app's own secrets
#   only, not on the project, so it reads those and no other secret.
# Nothing for logs: Cloud Run itself sends what the app writes to stdout.
# --condition=None: no IAM condition, and no prompt asking for one when the
# project's policy already has conditional bindings (gcloud's reference).
for role in roles/datastore.user roles/firebaseauth.admin; do
  retry gcloud_p projects add-iam-policy-binding "$project" \
    --member="serviceAccount:$service_account" --role="$role" --condition=None >/dev/null
done

# --- 3. Redis for more than one instance (optional) ----------------------------

redis_auth=
if [[ -n $vpc_connector ]]; then
  step "Serverless VPC Access connector $vpc_connector"
  if ! exists compute networks vpc-access connectors describe "$vpc_connector" --region="$region"; then
    gcloud_p compute networks vpc-access connectors create "$vpc_connector" \
      --region="$region" --network=default --range="$vpc_connector_range"
  fi
fi
if [[ -n $redis_instance ]]; then
  step "Memorystore for Redis instance $redis_instance"
  if ! exists redis instances describe "$redis_instance" --region="$region"; then
    # AUTH on: the address is private, and the password also keeps anything
    # else on the network from reading or flushing the counters and the
    # invalidation channel. Basic tier: one node (standard adds a replica).
    gcloud_p redis instances create "$redis_instance" --region="$region" \
      --network=default --tier=basic --size=1 --redis-version=redis_7_0 --enable-auth
  fi
  redis_host=$(gcloud_p redis instances describe "$redis_instance" --region="$region" --format='value(host)')
  redis_port=$(gcloud_p redis instances describe "$redis_instance" --region="$region" --format='value(port)')
  redis_auth=$(gcloud_p redis instances get-auth-string "$redis_instance" --region="$region" --format='value(authString)')
  [[ -n $redis_host && -n $redis_port && -n $redis_auth ]] ||
    fail "Memorystore instance $redis_instance has no address or AUTH string yet; run this again when it is ready."
fi

# --- 4. Secrets ----------------------------------------------------------------

# The newest enabled version of a secret ("" when there is none).
enabled_version() {
  local name
  name=$(gcloud_p secrets versions list "$1" --filter=state:ENABLED --sort-by=~createTime \
    --limit=1 --format='value(name)')
  echo "${name##*/}"
}

# A secret with an enabled version is left as it is: a new SECRET_KEY would
# sign everyone out, a new MFA_ENCRYPTION_KEY would make every enrolled
# authenticator unreadable, a new AUDIT_CHAIN_KEY every audit entry unverifiable (rotate them by hand: docs/deploy.md). A missing
# one gets a first version from its generator, through a pipe.
ensure_secret() {
  local name=$1 generate=$2
  if ! exists secrets describe "$name"; then
    gcloud_p secrets create "$name" --replication-policy=automatic --labels="app=$service"
  fi
  if [[ -z "$(enabled_version "$name")" ]]; then
    "$generate" | gcloud_p secrets versions add "$name" --data-file=-
  fi
  retry gcloud_p secrets add-iam-policy-binding "$name" \
    --member="serviceAccount:$service_account" --role=roles/secretmanager.secretAccessor >/dev/null
}

# The generators the app's own error messages name (adminapp/config/readers.py).
new_secret_key() { python3 -c 'import secrets; print(secrets.token_urlsafe(48), end="")'; }
new_mfa_key() { python3 -c 'import secrets; print(secrets.token_urlsafe(32), end="")'; }
new_audit_key() { new_mfa_key; }  # the same shape: 32 bytes in base64url
# printf is a shell builtin: the URL is never a process's argument.
the_redis_url() {
  if [[ -n $redis_instance ]]; then
    printf 'redis://:%s@%s:%s/0' "$redis_auth" "$redis_host" "$redis_port"
  else
    printf '%s' "$redis_url"
  fi
}

step "Secrets in Secret Manager"
ensure_secret "$secret_key_secret" new_secret_key
ensure_secret "$mfa_key_secret" new_mfa_key
ensure_secret "$audit_key_secret" new_audit_key
if [[ -n $shared_storage ]]; then
  ensure_secret "$redis_url_secret" the_redis_url
  # Not generated: when the URL changed (another instance, a new AUTH
  # string), it becomes the secret's new version.
  if [[ "$(gcloud_p secrets versions access latest --secret="$redis_url_secret")" != "$(the_redis_url)" ]]; then
    the_redis_url | gcloud_p secrets versions add "$redis_url_secret" --data-file=-
  fi
fi
# Pinned versions: Cloud Run reads a secret given as an environment variable
# when an instance starts, so with "latest" two instances could run with
# different keys after a change. Each deploy pins the current versions.
secrets=SECRET_KEY=$secret_key_secret:$(enabled_version "$secret_key_secret")
secrets+=,MFA_ENCRYPTION_KEY=$mfa_key_secret:$(enabled_version "$mfa_key_secret")
secrets+=,AUDIT_CHAIN_KEY=$audit_key_secret:$(enabled_version "$audit_key_secret")
if [[ -n $shared_storage ]]; then
  # SESSION_INVALIDATION_URL defaults to this Redis too (adminapp/config/rules.py).
  secrets+=,RATELIMIT_STORAGE_URI=$redis_url_secret:$(enabled_version "$redis_url_secret")
fi

# --- 5. The image and the service ----------------------------------------------

step "Building $image with Cloud Build"
if ! exists artifacts repositories describe "$service" --location="$region"; then
  gcloud_p artifacts repositories create "$service" --location="$region" \
    --repository-format=docker --description="adminapp images"
fi
# The upload is what .gcloudignore admits: what the Dockerfile copies, no
# .env or .venv. The build is FROM python:3.11-slim.
gcloud_p builds submit "$root" --tag="$image"

step "Deploying Cloud Run service $service in $region"
network=()
if [[ -n $vpc_connector ]]; then
  # Only private addresses (Memorystore's) go through the connector; Google
  # APIs and the internet keep Cloud Run's own way out.
  network=(--vpc-connector="$vpc_connector" --vpc-egress=private-ranges-only)
fi
# --no-cpu-throttling (instance-based billing): an instance keeps its CPU
# between requests. Each worker runs the session cache's invalidation
# subscriber on a thread, and emails may be sent after the response; with CPU
# only during requests (the default) both could stall until the next request.
# The price: an instance is billed for as long as it runs, not per request;
# it still scales to zero when idle (docs/deploy.md, "CPU allocation").
# --cpu-boost: more CPU while an instance starts, for shorter cold starts.
# --allow-unauthenticated: Hosting calls the service as an anonymous client;
# the app's own two gates guard /admin.
gcloud_p run deploy "$service" \
  --region="$region" \
  --image="$image" \
  --service-account="$service_account" \
  --allow-unauthenticated \
  --no-cpu-throttling \
  --cpu-boost \
  --min-instances=0 \
  --max-instances="$max_instances" \
  --env-vars-file="$env_file" \
  --set-secrets="$secrets" \
  "${network[@]}"

# --- 6. Firestore --------------------------------------------------------------

step "Firestore: database, rules, indexes and TTL policies"
if ! exists firestore databases describe --database='(default)'; then
  # In the service's region. A database's location cannot change later.
  gcloud_p firestore databases create --database='(default)' --location="$region" --type=firestore-native
fi
# Rules, indexes, and the TTL policies declared in firestore.indexes.json's
# fieldOverrides with "ttl": true (firebase-tools sets a field's ttlConfig
# when it deploys such an override: lib/firestore/api.js, patchField).
firebase deploy --only firestore --project="$project" --non-interactive
# The same TTL policies through the Firestore Admin API: a firebase CLI older
# than the pinned one ignores "ttl"; when the policy is on, nothing changes.
while read -r group field; do
  [[ -n $group ]] || continue
  gcloud_p firestore fields ttls update "$field" --collection-group="$group" \
    --database='(default)' --enable-ttl --async
done <<<"$ttl_policies"

# --- 7. Hosting ----------------------------------------------------------------

step "Firebase Hosting"
firebase deploy --only hosting --project="$project" --non-interactive

step "Deployed"
echo "Staff sign in at $public_url/admin/ (the first owner: docs/deploy.md)."
