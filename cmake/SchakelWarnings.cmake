# schakel_library(NAME SOURCES... DEPS ...): one library per module folder,
# exporting only include/, with warnings applied PRIVATE and an alias
# schakel::NAME.
set(SCHAKEL_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false -Wrestrict positives inside std::string operator+
  # (GCC bug 105329); keep the rest of the set.
  list(APPEND SCHAKEL_WARNINGS -Wno-restrict)
endif()
if(SCHAKEL_WERROR)
  list(APPEND SCHAKEL_WARNINGS -Werror)
endif()

function(schakel_warnings target)
  target_compile_options(${target} PRIVATE ${SCHAKEL_WARNINGS})
endfunction()

function(schakel_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    # A module whose sources are still to come builds as an empty library.
    set(ARG_SOURCES ${PROJECT_BINARY_DIR}/empty_${name}.cpp)
    file(WRITE ${ARG_SOURCES} "// no sources yet\n")
  endif()
  add_library(schakel_${name} STATIC ${ARG_SOURCES})
  add_library(schakel::${name} ALIAS schakel_${name})
  target_include_directories(schakel_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(schakel_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  schakel_warnings(schakel_${name})
endfunction()
