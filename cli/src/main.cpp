#include <iostream>

#include "schakel/cli/cli.h"

int main(int argc, char** argv) { return schakel::cli::RunCli(argc, argv, std::cin, std::cout, std::cerr); }
