include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS bulwark EXPORT bulwarkTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/bulwark DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/bulwark)
install(EXPORT bulwarkTargets NAMESPACE bulwark:: DESTINATION ${config_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bulwarkConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/bulwarkConfig.cmake
                              INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/bulwarkConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/bulwarkConfig.cmake ${PROJECT_BINARY_DIR}/bulwarkConfigVersion.cmake
        DESTINATION ${config_dir})
