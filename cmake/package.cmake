# cpack -G DEB: two Debian packages from the install rules.
#   chansim              the command, its Lua library, scenarios, docs, manual
#                        page, bash completion (Depends computed by
#                        dpkg-shlibdeps: libc6, libsdl2-2.0-0 (Lua is linked in),
#                        libsdl2-ttf-2.0-0, zlib1g; plus the view's font)
#   libchansim-core-dev  the runtime as a static C library, headers, pkg-config
set(CPACK_PACKAGE_NAME chansim)
set(CPACK_PACKAGE_VENDOR "chansim")
set(CPACK_PACKAGE_CONTACT "chansim maintainers <chansim@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL chansim dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_CHANSIM_PACKAGE_NAME chansim)
set(CPACK_DEBIAN_CHANSIM_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_CHANSIM_PACKAGE_DEPENDS "fonts-dejavu-core")
set(CPACK_DEBIAN_CHANSIM_PACKAGE_SECTION education)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libchansim-core-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libc6-dev, pkg-config")
set(CPACK_STRIP_FILES ON)
# The first line of each is the package's summary (CPACK_PACKAGE_DESCRIPTION_SUMMARY
# is left unset: CPack would put it before both).
set(CPACK_DEBIAN_CHANSIM_DESCRIPTION "deterministic simulator of Go's concurrency patterns
chansim runs Lua scenarios of Go concurrency patterns (goroutines, channels,
select, timers, sync, context, a simulated network and etcd) on a
deterministic runtime: same seed, same run. It explains deadlocks, leaks and
contention, explores schedules for failures, writes traces, metrics and pprof
profiles, and shows runs in an SDL2 view.")
set(CPACK_DEBIAN_DEV_DESCRIPTION "chansim's deterministic runtime as a C library
Goroutines, channels, select, timers, sync and context in simulated time, as
a static library with its headers and a pkg-config file (chansim-core).")
include(CPack)
