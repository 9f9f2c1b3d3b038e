#!/bin/sh
# Build the benchmark app and its tests once, for any iPhone; prints the .xctestrun to give the
# iPhone backend. Usage: DEVELOPMENT_TEAM=ABCDE12345 ios/scripts/build-for-testing.sh
set -eu
cd "$(dirname "$0")/.."
: "${DEVELOPMENT_TEAM:?set DEVELOPMENT_TEAM to your Apple developer team ID (see SETUP.md)}"
xcodegen generate --spec project.yml
xcodebuild build-for-testing \
    -project CodecBench.xcodeproj \
    -scheme CodecBench \
    -configuration Release \
    -destination 'generic/platform=iOS' \
    -derivedDataPath build \
    -allowProvisioningUpdates \
    DEVELOPMENT_TEAM="$DEVELOPMENT_TEAM"
xctestrun=$(ls build/Build/Products/*.xctestrun | head -n 1)
echo "xctestrun: $(pwd)/$xctestrun"
