# The Debian package (scripts/package.sh runs `cpack -G DEB` in a configured build tree).
# Files go under /usr (the unit's ExecStart is /usr/bin/dirfeed); the example config is a
# conffile in /etc/dirfeed. The maintainer scripts create the dirfeed user and /etc/dirfeed
# with systemd-sysusers/systemd-tmpfiles and never start the daemon: it needs a config first.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dirfeed)
set(CPACK_PACKAGE_VENDOR "The dirfeed authors")
set(CPACK_PACKAGE_CONTACT "The dirfeed authors <dirfeed@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Active Directory change feed with REST APIs")
set(CPACK_PACKAGE_DESCRIPTION
  "dirfeed polls Active Directory domain controllers (uSNChanged, DirSync and\n\
change notifications), records what changes in a durable RocksDB change feed\n\
and serves users, groups, memberships and user-to-IP mappings over three REST\n\
APIs: a User ID Service API, a Directory Changes API and a Directory Sync API\n\
with signed webhooks.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # dirfeed_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/dirfeed")
# The shared libraries the binary links, as dpkg-shlibdeps finds them (MIT Kerberos and
# libsasl2 among them), plus the tools the maintainer scripts call, plus Cyrus SASL's GSSAPI
# plugin: libldap loads it at run time for Kerberos binds (bind.method gssapi), so shlibdeps
# cannot see it. It is small and needs only libraries dirfeed links anyway.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, libsasl2-modules-gssapi-mit")
# publish.nats talks to a NATS server elsewhere; libnats itself comes in through shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nats-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${CMAKE_CURRENT_LIST_DIR}/deb/conffiles;${CMAKE_CURRENT_LIST_DIR}/deb/postinst;${CMAKE_CURRENT_LIST_DIR}/deb/prerm;${CMAKE_CURRENT_LIST_DIR}/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# The changelog and the man page carry the version; Debian wants both gzipped (-n: no time
# stamp, so the package is reproducible).
set(_dirfeed_pkg ${CMAKE_BINARY_DIR}/packaging)
configure_file(${CMAKE_CURRENT_LIST_DIR}/deb/changelog ${_dirfeed_pkg}/changelog @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/dirfeed.1 ${_dirfeed_pkg}/dirfeed.1 @ONLY)
foreach(_file changelog dirfeed.1)
  execute_process(COMMAND gzip -9nkf ${_dirfeed_pkg}/${_file} COMMAND_ERROR_IS_FATAL ANY)
endforeach()
install(FILES ${_dirfeed_pkg}/dirfeed.1.gz DESTINATION share/man/man1)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/deb/copyright ${_dirfeed_pkg}/changelog.gz
              ${CMAKE_SOURCE_DIR}/README.md
        DESTINATION share/doc/dirfeed)

include(CPack)
