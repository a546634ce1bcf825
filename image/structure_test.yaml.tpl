# container-structure-test, schema 2.0.0. $(USER), $(UID) and $(GID) are filled in by
# //image:structure_test_config from the same --define flags that built the image;
# $(USER_RE) is $(USER) escaped for a regular expression (useradd accepts names like app$).
schemaVersion: 2.0.0

metadataTest:
  user: "$(UID):$(GID)"
  exposedPorts: ["8080"]
  unexposedPorts: ["80", "443", "8443"]
  entrypoint: ["/app/cat-server"]
  cmd: []
  workdir: /app
  envVars:
    - key: PORT
      value: "8080"
    - key: CAT_SERVER_MODE
      value: release
    - key: CAT_SERVER_ROOT
      value: /srv
  labels:
    - key: org.opencontainers.image.title
      value: cat-server
    - key: org.opencontainers.image.version
      value: '^\d+\.\d+\.\d+$'
      isRegex: true

fileExistenceTests:
  - name: cat-server binary, root-owned 0755
    path: /app/cat-server
    shouldExist: true
    permissions: "-rwxr-xr-x"
    uid: 0
    gid: 0
    isExecutableBy: other
  - name: /tmp is world-writable and sticky
    path: /tmp
    shouldExist: true
    permissions: "dtrwxrwxrwx"   # Go's FileMode notation, as the real container-structure-test prints it
  - name: served directory exists
    path: /srv
    shouldExist: true
    permissions: "drwxr-xr-x"
  - name: home of the configured user
    path: /home/$(USER)
    shouldExist: true
    uid: $(UID)
    gid: $(GID)

fileContentTests:
  - name: passwd holds root, nobody and the configured user
    path: /etc/passwd
    expectedContents:
      - '(?m)^root:x:0:0:'
      - '(?m)^nobody:x:65534:'
      - '(?m)^$(USER_RE):x:$(UID):$(GID):'
  - name: group holds the configured group
    path: /etc/group
    expectedContents:
      - '(?m)^root:x:0:'
      - '(?m)^$(USER_RE):x:$(GID):'
